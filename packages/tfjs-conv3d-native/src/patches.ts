import { loadAddon } from "./load-addon.js";

/**
 * `fn(vol, dims, size, jobs, b, norm, out, simd?)`: cuts augmented patches for
 * `@lungflow/pipeline`'s workers. `vol` is a padded int16 HU volume of shape `dims`
 * (Int32Array [z, y, x]); `size` the patch shape (Int32Array [d, h, w]); `jobs` 8 ints per
 * patch: box origin in `vol` (z, y, x; the box must lie inside), the symmetry as output axis
 * → source axis permutation (3 ints) and flip bits (bit a: output axis a backwards), and the
 * patch's element offset in `out`; `b` per patch the shift (HU offset × scale + shift);
 * `norm` Float32Array [scale, lo, hi]. Each voxel becomes
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

/** The addon's patch kernel, or undefined when the addon is not built or lacks it. */
export function nativePatchKernel(): NativePatchKernel | undefined {
  const r = loadAddon();
  if (!("addon" in r) || typeof r.addon.cutPatches !== "function") return undefined;
  return r.addon.cutPatches.bind(r.addon);
}
