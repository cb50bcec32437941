import type { VoxelArray } from "./volume.js";
import { VolumeError } from "./volume-error.js";

/**
 * Copies the box starting at voxel `start` (`[z, y, x]`, may be negative) of size `size`
 * out of `vol` into a new array (or `out`, reused) of the same element type; voxels outside
 * the volume get `fillValue` (default 0; use -1000 for HU air). No per-voxel work outside
 * the in-bounds part.
 */
export function extractPatch<T extends VoxelArray>(
  vol: { data: T; shape: readonly number[] },
  start: readonly number[],
  size: readonly number[],
  fillValue = 0,
  out?: T,
): T {
  const { data, shape } = vol;
  const [nz, ny, nx] = shape;
  const [pz, py, px] = size;
  if (data.length !== nz * ny * nx) {
    throw new VolumeError(
      "BAD_SHAPE",
      `extractPatch: shape ${shape.join("x")} does not match ${data.length} voxels`,
      {
        shape: [...shape],
        length: data.length,
      },
    );
  }
  if (
    ![0, 1, 2].every((a) => Number.isInteger(size[a]) && size[a] > 0 && Number.isInteger(start[a]))
  ) {
    throw new VolumeError("BAD_ARGUMENT", `extractPatch: bad start ${start} or size ${size}`, {
      start: [...start],
      size: [...size],
    });
  }
  const n = pz * py * px;
  const dst = out ?? new (data.constructor as new (n: number) => T)(n);
  if (dst.length !== n) {
    throw new VolumeError("BAD_ARGUMENT", `extractPatch: out has ${dst.length} voxels, need ${n}`, {
      size: [...size],
    });
  }
  const [sz, sy, sx] = start;
  // In-bounds ranges in patch coordinates.
  const z0 = Math.max(0, -sz);
  const z1 = Math.min(pz, nz - sz);
  const y0 = Math.max(0, -sy);
  const y1 = Math.min(py, ny - sy);
  const x0 = Math.max(0, -sx);
  const x1 = Math.min(px, nx - sx);
  const inside = z1 > z0 && y1 > y0 && x1 > x0;
  const full = inside && z0 === 0 && y0 === 0 && x0 === 0 && z1 === pz && y1 === py && x1 === px;
  if (!full) dst.fill(fillValue);
  if (!inside) return dst;
  const len = x1 - x0;
  for (let z = z0; z < z1; z++) {
    for (let y = y0; y < y1; y++) {
      const s = ((z + sz) * ny + (y + sy)) * nx + sx + x0;
      const d = (z * py + y) * px + x0;
      // A plain loop beats subarray + set (one allocation per row) for patch-sized rows.
      if (len > 256) dst.set(data.subarray(s, s + len) as ArrayLike<number>, d);
      else for (let x = 0; x < len; x++) dst[d + x] = data[s + x];
    }
  }
  return dst;
}
