import type { Volume } from "@lungflow/volume";
import { binaryDilate } from "./box-morphology.js";
import { labelRuns } from "./label-runs.js";
import { readWindow, sliceWindow } from "./slice-window.js";

/**
 * Gives back the lung boundary the 9x9 opening shaved off: per slice, the candidates
 * (`hu < threshold`) within the opening's reach (a 9x9 box) of the mask, in 8-connected
 * pieces that touch the mask. The outline of lung + juxtapleural nodule is then the
 * pleura again, so the closing can fill the nodule's notch. In place; returns voxels added.
 * Works in the window of the slice's mask grown by 5 (the reach plus a frame).
 */
export function recoverBoundary(
  hu: Volume<Int16Array>,
  mask: Uint8Array,
  threshold: number,
): number {
  const [nz, ny, nx] = hu.shape;
  const plane = ny * nx;
  let added = 0;
  for (let z = 0; z < nz; z++) {
    const o = z * plane;
    const win = sliceWindow(mask, o, ny, nx, 5);
    if (!win) continue;
    const h = win.y1 - win.y0;
    const w = win.x1 - win.x0;
    const m = readWindow(mask, o, nx, win);
    const near = binaryDilate(m, [1, h, w], [1, 9, 9], 1);
    for (let y = 0; y < h; y++) {
      const b = o + (y + win.y0) * nx + win.x0;
      for (let x = 0; x < w; x++)
        near[y * w + x] = near[y * w + x] && hu.data[b + x] < threshold ? 1 : 0;
    }
    const rl = labelRuns(near, [1, h, w], 8);
    const touches = new Uint8Array(rl.count + 1);
    for (let i = 0; i < rl.runCount; i++) {
      const b = rl.row[i] * w;
      if (m.subarray(b + rl.start[i], b + rl.end[i]).indexOf(1) >= 0) touches[rl.label[i]] = 1;
    }
    for (let i = 0; i < rl.runCount; i++) {
      if (!touches[rl.label[i]]) continue;
      const b = o + (rl.row[i] + win.y0) * nx + win.x0;
      for (let k = b + rl.start[i]; k < b + rl.end[i]; k++) {
        if (!mask[k]) {
          mask[k] = 1;
          added++;
        }
      }
    }
  }
  return added;
}
