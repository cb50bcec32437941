import type { Volume } from "@lungflow/volume";
import { binaryDilate } from "./box-morphology.js";
import { labelRuns } from "./label-runs.js";

/**
 * Gives back the lung boundary the 9x9 opening shaved off: per slice, the candidates
 * (`hu < threshold`) within the opening's reach (a 9x9 box) of the mask, in 8-connected
 * pieces that touch the mask. The outline of lung + juxtapleural nodule is then the
 * pleura again, so the closing can fill the nodule's notch. In place; returns voxels added.
 */
export function recoverBoundary(
  hu: Volume<Int16Array>,
  mask: Uint8Array,
  threshold: number,
): number {
  const [nz, ny, nx] = hu.shape;
  const plane = ny * nx;
  const near = new Uint8Array(plane);
  let added = 0;
  for (let z = 0; z < nz; z++) {
    const o = z * plane;
    const m = mask.subarray(o, o + plane);
    if (m.indexOf(1) < 0) continue;
    binaryDilate(m, [1, ny, nx], [1, 9, 9], 1, near);
    for (let i = 0; i < plane; i++) near[i] = near[i] && hu.data[o + i] < threshold ? 1 : 0;
    const rl = labelRuns(near, [1, ny, nx], 8);
    const touches = new Uint8Array(rl.count + 1);
    for (let i = 0; i < rl.runCount; i++) {
      const b = rl.row[i] * nx;
      if (m.subarray(b + rl.start[i], b + rl.end[i]).indexOf(1) >= 0) touches[rl.label[i]] = 1;
    }
    for (let i = 0; i < rl.runCount; i++) {
      if (!touches[rl.label[i]]) continue;
      const b = rl.row[i] * nx;
      for (let k = b + rl.start[i]; k < b + rl.end[i]; k++) {
        if (!m[k]) {
          m[k] = 1;
          added++;
        }
      }
    }
  }
  return added;
}
