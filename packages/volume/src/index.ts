/**
 * @lungflow/volume: the `Volume` type (typed array + shape [z,y,x] + spacing + origin +
 * direction) and the pure array operations every stage shares: resampling to a spacing
 * (kdsb17's zoom, scipy-exact), crop, bounding box of a mask, patch extraction with
 * out-of-bounds fill, HU normalisation, and the 48 symmetries of the cube.
 *
 * ```ts
 * import { makeVolume, resample, bboxOfMask, crop, applySymmetry } from "@lungflow/volume";
 * const v = makeVolume(new Int16Array(8 * 16 * 16).fill(-1000), [8, 16, 16], [2.5, 0.7, 0.7]);
 * const iso = resample(v); // 1 mm isotropic, trilinear (nearest for Uint8Array masks)
 * const box = bboxOfMask({ data: new Uint8Array(iso.data.length).fill(1), shape: iso.shape });
 * const lungs = box ? crop(iso, box) : iso;
 * const { data, shape } = applySymmetry(lungs.data, lungs.shape, 17);
 * ```
 */

export { bboxOfMask } from "./bbox-of-mask.js";
export { type BBox, checkBBox, crop } from "./crop.js";
export * from "./errors.js";
export { extractPatch } from "./extract-patch.js";
export { type NormalizeHuOptions, normalizeHu } from "./normalize-hu.js";
export { createRng, mixSeed, mulberry32, type Rng, shuffled } from "./random.js";
export {
  type AxisTable,
  type ResampleOptions,
  type ResampleSlabArgs,
  resample,
  resampleKernel,
  zoomSize,
} from "./resample.js";
export {
  type SlabArray,
  type SlabArrayCtor,
  type SlabKernel,
  type SlabRunner,
  serialSlabs,
  slabCount,
  slabRange,
} from "./slabs.js";
export {
  applySymmetry,
  composeSymmetry,
  inverseSymmetry,
  SYMMETRIES,
  SYMMETRY_COUNT,
  type Symmetry,
  symmetryShape,
} from "./symmetry.js";
export * from "./volume.js";
export { VolumeError, type VolumeErrorCode } from "./volume-error.js";
