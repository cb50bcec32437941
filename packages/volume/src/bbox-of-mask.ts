import type { BBox } from "./crop.js";
import type { VoxelArray } from "./volume.js";
import { VolumeError } from "./volume-error.js";

/**
 * The smallest box (end-exclusive voxel indices, `[[z0, z1], [y0, y1], [x0, x1]]`) holding
 * every non-zero voxel of `mask`, or `undefined` when the mask is empty. Accepts a mask
 * volume or any `{ data, shape }`.
 */
export function bboxOfMask(mask: { data: VoxelArray; shape: readonly number[] }): BBox | undefined {
  const { data, shape } = mask;
  const [nz, ny, nx] = shape;
  if (data.length !== nz * ny * nx) {
    throw new VolumeError(
      "BAD_SHAPE",
      `bboxOfMask: shape ${shape.join("x")} does not match ${data.length} voxels`,
      {
        shape: [...shape],
        length: data.length,
      },
    );
  }
  let z0 = nz;
  let z1 = -1;
  let y0 = ny;
  let y1 = -1;
  let x0 = nx;
  let x1 = -1;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const b = (z * ny + y) * nx;
      // First non-zero of the row; skip the row if none.
      let first = -1;
      for (let x = 0; x < nx; x++) {
        if (data[b + x] !== 0) {
          first = x;
          break;
        }
      }
      if (first < 0) continue;
      if (z < z0) z0 = z;
      z1 = z;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (first < x0) x0 = first;
      // Last non-zero: only the part right of the current x1 can extend the box.
      for (let x = nx - 1; x > x1; x--) {
        if (data[b + x] !== 0) {
          x1 = x;
          break;
        }
      }
    }
  }
  if (z1 < 0) return undefined;
  return [
    [z0, z1 + 1],
    [y0, y1 + 1],
    [x0, x1 + 1],
  ];
}
