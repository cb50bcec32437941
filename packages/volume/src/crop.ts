import type { Vec3, Volume, VoxelArray } from "./volume.js";
import { VolumeError } from "./volume-error.js";

/** A box of voxel indices per axis, `[[z0, z1], [y0, y1], [x0, x1]]`, end-exclusive. */
export type BBox = [[number, number], [number, number], [number, number]];

/** Throws a `BAD_BBOX` VolumeError unless `bbox` is a non-empty integer box inside `shape`. */
export function checkBBox(bbox: BBox, shape: readonly number[]): void {
  for (let a = 0; a < 3; a++) {
    const [s, e] = bbox[a] ?? [];
    if (!Number.isInteger(s) || !Number.isInteger(e) || s < 0 || e > shape[a] || e <= s) {
      throw new VolumeError(
        "BAD_BBOX",
        `bbox ${JSON.stringify(bbox)} is not a non-empty box inside shape ${shape.join("x")} (axis ${a})`,
        { bbox, shape: [...shape], axis: a },
      );
    }
  }
}

/**
 * Copies the voxels of `bbox` (end-exclusive voxel indices) into a new volume of the same
 * element type. The origin moves to the world position of voxel `(z0, y0, x0)`; spacing
 * and direction are kept.
 */
export function crop<T extends VoxelArray>(vol: Volume<T>, bbox: BBox): Volume<T> {
  const [, ny, nx] = vol.shape;
  checkBBox(bbox, vol.shape);
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  const cz = z1 - z0;
  const cy = y1 - y0;
  const cx = x1 - x0;
  const src = vol.data;
  const out = new (src.constructor as new (n: number) => T)(cz * cy * cx);
  let o = 0;
  for (let z = z0; z < z1; z++) {
    for (let y = y0; y < y1; y++) {
      const b = (z * ny + y) * nx;
      out.set(src.subarray(b + x0, b + x1) as T & ArrayLike<number>, o);
      o += cx;
    }
  }
  const start = [z0, y0, x0];
  const origin = [...vol.origin] as Vec3;
  for (let a = 0; a < 3; a++) {
    for (let k = 0; k < 3; k++) origin[k] += start[a] * vol.spacing[a] * vol.direction[a][k];
  }
  return {
    data: out,
    shape: [cz, cy, cx],
    spacing: [...vol.spacing] as Vec3,
    origin,
    direction: vol.direction.map((d) => [...d]) as [Vec3, Vec3, Vec3],
  };
}
