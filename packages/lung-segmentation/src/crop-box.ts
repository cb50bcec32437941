import type { BBox } from "@lungflow/volume";
import { fillBits, morphBlocks, popcount, wordsPerRow } from "./bit-rows.js";
import type { RunLabels } from "./label-runs.js";

/** The crop box and the tail drop that decided it. */
export interface CropBox {
  /** End-exclusive voxel indices in the input volume; undefined if the tail drop left nothing. */
  bbox: BBox | undefined;
  /** Voxels per slice of the box mask (the kept component dilated 1x5x1 four times). */
  sliceCounts: Float64Array;
  /** Slices dropped as tails (cumulative fraction below `tail` / above `1 - tail`). */
  droppedLow: number;
  droppedHigh: number;
}

/**
 * kdsb17 step 4 on the kept component (runs whose label has `keep[label]`): the box mask is
 * the component dilated by a 1x5x1 box 4 times (a 17-voxel y window, border 0). Slices
 * whose cumulative share of the box mask, up to and including them, is `< tail` or
 * `> 1 - tail` are dropped (the cumulative sum adds `count[z] / total` slice by slice, as
 * `np.cumsum(count / total)` does), then the bounding box of what is left is taken.
 * The dilation is counted per slice on bit-packed rows, never as a full-size mask.
 */
export function cropBox(rl: RunLabels, keep: Uint8Array, ry: number, tail: number): CropBox {
  const [nz, ny, nx] = rl.shape;
  const counts = new Float64Array(nz);
  const yMin = new Int32Array(nz).fill(ny);
  const yMax = new Int32Array(nz).fill(-1);
  const xMin = new Int32Array(nz).fill(nx);
  const xMax = new Int32Array(nz).fill(-1);
  // Per slice: the kept runs into a packed plane, dilated along y, popcounted.
  const W = wordsPerRow(nx);
  const plane = new Int32Array(ny * W);
  for (let z = 0; z < nz; z++) {
    const r0 = rl.rowStart[z * ny];
    const r1 = rl.rowStart[(z + 1) * ny];
    let any = false;
    for (let i = r0; i < r1; i++) {
      if (!keep[rl.label[i]]) continue;
      if (!any) plane.fill(0);
      any = true;
      const y = rl.row[i] - z * ny;
      fillBits(plane, y * W, rl.start[i], rl.end[i], 1);
      if (y < yMin[z]) yMin[z] = y;
      if (y > yMax[z]) yMax[z] = y;
      if (rl.start[i] < xMin[z]) xMin[z] = rl.start[i];
      if (rl.end[i] - 1 > xMax[z]) xMax[z] = rl.end[i] - 1;
    }
    if (!any) continue;
    const y0 = Math.max(0, yMin[z] - 2 * ry);
    const y1 = Math.min(ny, yMax[z] + 2 * ry + 1);
    morphBlocks(plane, y0 * W, y1 - y0, W, ry, false);
    let c = 0;
    for (let k = y0 * W; k < y1 * W; k++) c += popcount(plane[k]);
    counts[z] = c;
  }
  let total = 0;
  for (let z = 0; z < nz; z++) total += counts[z];
  let cum = 0;
  let droppedLow = 0;
  let droppedHigh = 0;
  const box: number[] = [nz, -1, ny, -1, nx, -1];
  for (let z = 0; z < nz; z++) {
    if (total === 0) break;
    cum += counts[z] / total;
    if (cum < tail || cum > 1 - tail) {
      if (counts[z] > 0) cum < tail ? droppedLow++ : droppedHigh++;
      continue;
    }
    if (counts[z] === 0) continue;
    box[0] = Math.min(box[0], z);
    box[1] = z;
    box[2] = Math.min(box[2], Math.max(0, yMin[z] - ry));
    box[3] = Math.max(box[3], Math.min(ny - 1, yMax[z] + ry));
    box[4] = Math.min(box[4], xMin[z]);
    box[5] = Math.max(box[5], xMax[z]);
  }
  const bbox: BBox | undefined =
    box[1] < 0
      ? undefined
      : [
          [box[0], box[1] + 1],
          [box[2], box[3] + 1],
          [box[4], box[5] + 1],
        ];
  return { bbox, sliceCounts: counts, droppedLow, droppedHigh };
}
