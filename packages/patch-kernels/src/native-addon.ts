import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AddonLoadResult, loadNativeAddon } from "./native-loader.js";

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

export type LoadResult = AddonLoadResult<PatchAddon>;

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where `pnpm build` puts the addon (node-gyp's Release build). */
export const defaultAddonPath = path.join(packageRoot, "build", "Release", "patch_kernels.node");

/**
 * Loads the compiled addon once per path. Never throws: a missing or broken binary gives
 * `{ error }` naming the file and why (see `loadNativeAddon`).
 */
export function loadAddon(file: string = defaultAddonPath): LoadResult {
  return loadNativeAddon<PatchAddon>(file, "@lungflow/patch-kernels");
}
