import type { VoxelArray } from "./volume.js";
import { VolumeError } from "./volume-error.js";

/** Options of {@link normalizeHu}. */
export interface NormalizeHuOptions {
  /** HU mapped to -1. Default -1000 (air). */
  min?: number;
  /** HU mapped to +1. Default 400 (bone-ish soft tissue window top, as kdsb17). */
  max?: number;
  /** Clip the result to [-1, 1]. Default true. */
  clip?: boolean;
}

/**
 * Maps HU linearly to the network range: `min` -> -1, `max` -> +1 (defaults -1000 and 400),
 * clipped to [-1, 1] unless `clip: false`. Writes into `out` when given (same length).
 */
export function normalizeHu(
  hu: ArrayLike<number> & VoxelArray,
  opts: NormalizeHuOptions = {},
  out?: Float32Array,
): Float32Array {
  const min = opts.min ?? -1000;
  const max = opts.max ?? 400;
  const clip = opts.clip ?? true;
  if (!(max > min)) {
    throw new VolumeError("BAD_ARGUMENT", `normalizeHu: max (${max}) must exceed min (${min})`, {
      min,
      max,
    });
  }
  const n = hu.length;
  const dst = out ?? new Float32Array(n);
  if (dst.length !== n) {
    throw new VolumeError(
      "BAD_ARGUMENT",
      `normalizeHu: out has ${dst.length} values, need ${n}`,
      {},
    );
  }
  // One multiply per voxel; min -> -1 exactly, max -> +1 after the float32 store.
  const scale = 2 / (max - min);
  if (clip) {
    for (let i = 0; i < n; i++) dst[i] = Math.max(-1, Math.min((hu[i] - min) * scale - 1, 1));
  } else {
    for (let i = 0; i < n; i++) dst[i] = (hu[i] - min) * scale - 1;
  }
  return dst;
}
