import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * `fn(vol, dims, size, jobs, b, norm, out, simd?)`: cuts augmented patches. `vol` is a padded
 * int16 HU volume of shape `dims` (Int32Array [z, y, x]); `size` the patch shape (Int32Array
 * [d, h, w]); `jobs` 8 ints per patch: box origin in `vol` (z, y, x; the box must lie inside),
 * the symmetry as output axis → source axis permutation (3 ints) and flip bits (bit a: output
 * axis a backwards), and the patch's element offset in `out`; `b` per patch the shift (HU
 * offset × scale + shift); `norm` Float32Array [scale, lo, hi]. Each voxel becomes
 * `max(min(float32(hu) * scale + b, hi), lo)` in float32 (the wasm kernel's operations in the
 * same order, so the results are bit-identical to it). AVX2 where the CPU has it (8x8
 * register transposes for symmetries that move rows), portable C++ elsewhere or with
 * `simd: false`; patches are streamed into `out` with non-temporal stores. Throws on boxes
 * outside the volume, patches outside `out`, or bad arguments.
 */
export type NativePatchKernel = (
  vol: Int16Array,
  dims: Int32Array,
  size: Int32Array,
  jobs: Int32Array,
  b: Float32Array,
  norm: Float32Array,
  out: Float32Array,
  simd?: boolean,
) => void;

/**
 * `fn(src, dst, dstOffset)`: copies `src` into `dst` at element `dstOffset` with
 * non-temporal stores (x86; a plain copy elsewhere): the destination's cache lines are not
 * read first and do not evict the caller's working set. For filling large buffers that are
 * read much later (the patch stream's batches). Throws if `src` does not fit.
 */
export type NativeStreamCopy = (src: Float32Array, dst: Float32Array, dstOffset: number) => void;

/** The addon's functions (native/addon.cc). */
export interface PatchAddon {
  cutPatches: NativePatchKernel;
  streamCopy: NativeStreamCopy;
}

export type LoadResult = { addon: PatchAddon; path: string } | { error: string; path: string };

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where `pnpm build` puts the addon (node-gyp's Release build). */
export const defaultAddonPath = path.join(packageRoot, "build", "Release", "patch_kernels.node");

const cache = new Map<string, LoadResult>();

/**
 * Loads the compiled addon once per path. Never throws: a missing or broken binary gives
 * `{ error }` naming the file and why (including the build log's reason when the build
 * failed, from build/native-build-error.txt).
 */
export function loadAddon(file: string = defaultAddonPath): LoadResult {
  const hit = cache.get(file);
  if (hit) return hit;
  let result: LoadResult;
  if (!fs.existsSync(file)) {
    const errFile = path.join(path.dirname(file), "..", "native-build-error.txt");
    const why = fs.existsSync(errFile)
      ? `the native build failed: ${fs.readFileSync(errFile, "utf8").trim().split("\n").slice(-3).join(" | ")}`
      : "it was not built (run `pnpm --filter @lungflow/patch-kernels build`; needs node-gyp and a C++17 compiler)";
    result = { error: `no native addon at ${file}: ${why}`, path: file };
  } else {
    try {
      const req = createRequire(import.meta.url);
      result = { addon: req(file) as PatchAddon, path: file };
    } catch (err) {
      result = {
        error: `native addon ${file} failed to load: ${(err as Error).message.split("\n")[0]}`,
        path: file,
      };
    }
  }
  cache.set(file, result);
  return result;
}
