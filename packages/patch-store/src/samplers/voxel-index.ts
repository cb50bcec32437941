import type { Vec3 } from "@lungflow/volume";

/**
 * Per-row counts of the voxels that satisfy a predicate (inside the mask, optionally
 * brighter than a HU threshold), so a uniform draw over those voxels costs a binary search
 * over rows and a scan of one row, instead of a list of every voxel (tens of MB per patient).
 */
export interface VoxelIndex {
  shape: Vec3;
  /** `cum[r]` = number of selected voxels in rows before row `r` (row = z * Y + y); length Z*Y+1. */
  cum: Float64Array;
  total: number;
  /** Selected voxels are those with `mask != 0` and (when set) `hu > threshold`. */
  threshold?: number;
}

const cache = new WeakMap<Uint8Array, Map<string, VoxelIndex>>();

/** Builds (or returns the cached) index of `mask` voxels, optionally with `hu > threshold`. */
export function voxelIndex(
  shape: Vec3,
  mask: Uint8Array,
  hu?: Int16Array,
  threshold?: number,
): VoxelIndex {
  const key = threshold === undefined ? "mask" : `hu>${threshold}`;
  let byKey = cache.get(mask);
  const hit = byKey?.get(key);
  if (hit && (threshold === undefined || hit.threshold === threshold)) return hit;
  const [, ny, nx] = shape;
  const rows = shape[0] * ny;
  const cum = new Float64Array(rows + 1);
  let total = 0;
  for (let r = 0; r < rows; r++) {
    cum[r] = total;
    const o = r * nx;
    let c = 0;
    if (threshold === undefined || !hu) {
      for (let x = 0; x < nx; x++) c += mask[o + x] !== 0 ? 1 : 0;
    } else {
      for (let x = 0; x < nx; x++) c += mask[o + x] !== 0 && hu[o + x] > threshold ? 1 : 0;
    }
    total += c;
  }
  cum[rows] = total;
  const idx: VoxelIndex = { shape, cum, total, threshold };
  if (!byKey) {
    byKey = new Map();
    cache.set(mask, byKey);
  }
  byKey.set(key, idx);
  return idx;
}

/** The `k`-th selected voxel (0 <= k < total) as `[z, y, x]`. */
export function nthVoxel(idx: VoxelIndex, k: number, mask: Uint8Array, hu?: Int16Array): Vec3 {
  const { cum, shape } = idx;
  let lo = 0;
  let hi = cum.length - 2;
  // Last row r with cum[r] <= k.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (cum[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  const r = lo;
  const nx = shape[2];
  let left = k - cum[r];
  const o = r * nx;
  const t = idx.threshold;
  for (let x = 0; x < nx; x++) {
    const sel = mask[o + x] !== 0 && (t === undefined || !hu || hu[o + x] > t);
    if (sel) {
      if (left === 0) return [Math.floor(r / shape[1]), r % shape[1], x];
      left--;
    }
  }
  throw new Error(`voxel index inconsistent with its mask (row ${r}, k ${k})`);
}
