import { binaryDilate, binaryErode, type Shape3 } from "./box-morphology.js";
import { hullPockets } from "./hull-pockets.js";
import { labelRuns } from "./label-runs.js";
import { readWindow, sliceWindow } from "./slice-window.js";

/** Pieces smaller than this (pixels) are not closed. */
const MIN_PIECE = 20;

/**
 * Per slice and per 8-connected piece (so the two lungs are never bridged): binary
 * closing with a (2r+1) x (2r+1) square, then filling of the holes (background not 4-connected to the outside), and at the end of
 * the pockets between each piece and its convex hull that fit a `maxPocket` = [dy, dx]
 * voxel box on every slice they span (see hull-pockets.ts). Keeps nodules and vessels
 * that touch the pleura, or lie inside the lung, in the mask. A filled region (8-connected) that reaches a `forbidden` voxel
 * (the airway taken out) is not filled: it is the notch the airway left, not a nodule.
 * In place; returns the number of voxels added.
 */
export function closeSlices(
  mask: Uint8Array,
  shape: Shape3,
  r: number,
  maxPocket: readonly [number, number] = [0, 0],
  forbidden?: Uint8Array,
): number {
  const pocketsOn = maxPocket[0] > 0 && maxPocket[1] > 0;
  const [nz, ny, nx] = shape;
  const plane = ny * nx;
  let added = 0;
  const pockets = new Uint8Array(pocketsOn ? mask.length : 0);
  const m = r + 1; // window margin: the closing reaches r beyond a piece, plus a frame of background
  // Slices holding a forbidden voxel (the airway), where fills must be checked against it.
  const banSlices = new Uint8Array(nz);
  if (forbidden)
    for (let z = 0; z < nz; z++)
      banSlices[z] = forbidden.subarray(z * plane, (z + 1) * plane).indexOf(1) >= 0 ? 1 : 0;
  for (let z = 0; z < nz; z++) {
    const o = z * plane;
    const sliceBan = banSlices[z] === 1;
    const sw = sliceWindow(mask, o, ny, nx, 0);
    if (!sw) continue;
    const rl = labelRuns(readWindow(mask, o, nx, sw), [1, sw.y1 - sw.y0, sw.x1 - sw.x0], 8);
    // back to slice coordinates
    for (let i = 0; i < rl.runCount; i++) {
      rl.row[i] += sw.y0;
      rl.start[i] += sw.x0;
      rl.end[i] += sw.x0;
    }
    const ext = new Int32Array(4 * (rl.count + 1)); // y0, y1, x0, x1 per label
    for (let l = 1; l <= rl.count; l++) ext.set([ny, -1, nx, -1], 4 * l);
    for (let i = 0; i < rl.runCount; i++) {
      const e = 4 * rl.label[i];
      ext[e] = Math.min(ext[e], rl.row[i]);
      ext[e + 1] = Math.max(ext[e + 1], rl.row[i]);
      ext[e + 2] = Math.min(ext[e + 2], rl.start[i]);
      ext[e + 3] = Math.max(ext[e + 3], rl.end[i] - 1);
    }
    // Runs grouped by label (counting sort), so each piece is visited once.
    const first = new Int32Array(rl.count + 2);
    for (let i = 0; i < rl.runCount; i++) first[rl.label[i] + 1]++;
    for (let l = 1; l <= rl.count + 1; l++) first[l] += first[l - 1];
    const order = new Int32Array(rl.runCount);
    const fillAt = first.slice();
    for (let i = 0; i < rl.runCount; i++) order[fillAt[rl.label[i]]++] = i;
    for (let l = 1; l <= rl.count; l++) {
      // Specks (under MIN_PIECE pixels) are left as they are.
      if (rl.sizes[l] < MIN_PIECE) continue;
      const wy0 = ext[4 * l] - m;
      const wx0 = ext[4 * l + 2] - m;
      const h = ext[4 * l + 1] + m - wy0 + 1;
      const w = ext[4 * l + 3] + m - wx0 + 1;
      // Window holding this piece only: 1 = piece.
      const win = new Uint8Array(h * w);
      for (let k = first[l]; k < first[l + 1]; k++) {
        const i = order[k];
        const b = (rl.row[i] - wy0) * w - wx0;
        win.fill(1, b + rl.start[i], b + rl.end[i]);
      }
      // Closing with a (2r+1)^2 square: dilate, then erode (outside the window is 0, and
      // the window leaves a frame of background round the dilated piece).
      const closed = win.slice();
      if (r > 0) {
        binaryDilate(closed, [1, h, w], [1, 2 * r + 1, 2 * r + 1], 1, closed);
        binaryErode(closed, [1, h, w], [1, 2 * r + 1, 2 * r + 1], 1, closed);
      }
      fillHoles(closed, h, w);
      if (pocketsOn) {
        const pk = new Uint8Array(h * w);
        hullPockets(closed, h, w, maxPocket[0], maxPocket[1], pk);
        for (let y = Math.max(0, wy0); y < Math.min(ny, wy0 + h); y++) {
          for (let x = Math.max(0, wx0); x < Math.min(nx, wx0 + w); x++) {
            const v = pk[(y - wy0) * w + (x - wx0)];
            if (v > pockets[o + y * nx + x]) pockets[o + y * nx + x] = v;
          }
        }
      }
      if (!sliceBan) {
        // Nothing forbidden on this slice: add what the fill adds, directly.
        for (let y = Math.max(0, wy0); y < Math.min(ny, wy0 + h); y++) {
          const b = (y - wy0) * w - wx0;
          for (let x = Math.max(0, wx0); x < Math.min(nx, wx0 + w); x++) {
            const k = o + y * nx + x;
            if (closed[b + x] && !mask[k]) {
              mask[k] = 1;
              added++;
            }
          }
        }
        continue;
      }
      // What the fill adds to the piece, with the forbidden voxels joined in.
      const fill = new Uint8Array(h * w);
      const ban = new Uint8Array(h * w);
      for (let y = Math.max(0, wy0); y < Math.min(ny, wy0 + h); y++) {
        for (let x = Math.max(0, wx0); x < Math.min(nx, wx0 + w); x++) {
          const j = (y - wy0) * w + (x - wx0);
          ban[j] = forbidden ? forbidden[o + y * nx + x] : 0;
          fill[j] = (closed[j] && !win[j]) || ban[j] ? 1 : 0;
        }
      }
      const fl = labelRuns(fill, [1, h, w], 8);
      const banned = new Uint8Array(fl.count + 1);
      if (forbidden) {
        for (let i = 0; i < fl.runCount; i++) {
          const b = fl.row[i] * w;
          if (ban.subarray(b + fl.start[i], b + fl.end[i]).indexOf(1) >= 0) banned[fl.label[i]] = 1;
        }
      }
      for (let i = 0; i < fl.runCount; i++) {
        if (banned[fl.label[i]]) continue;
        const y = wy0 + fl.row[i];
        for (let xx = fl.start[i]; xx < fl.end[i]; xx++) {
          const x = wx0 + xx;
          const k = o + y * nx + x;
          if (!mask[k]) {
            mask[k] = 1;
            added++;
          }
        }
      }
    }
  }
  if (pocketsOn) added += fillPockets(mask, shape, pockets, forbidden);
  return added;
}

/**
 * Fills the hull pockets whose 3D extent (26-connected across slices) holds no large
 * pocket and no forbidden voxel: a nodule's pockets are small on every slice, while the
 * heart's notch is small only at its ends.
 */
function fillPockets(
  mask: Uint8Array,
  shape: Shape3,
  pockets: Uint8Array,
  forbidden?: Uint8Array,
): number {
  const nx = shape[2];
  if (forbidden)
    for (let i = 0; i < pockets.length; i++)
      if (forbidden[i] && !mask[i] && !pockets[i]) pockets[i] = 2;
  const rl = labelRuns(pockets, shape, 26);
  const bad = new Uint8Array(rl.count + 1);
  for (let i = 0; i < rl.runCount; i++) {
    const b = rl.row[i] * nx;
    if (!bad[rl.label[i]] && pockets.subarray(b + rl.start[i], b + rl.end[i]).indexOf(2) >= 0)
      bad[rl.label[i]] = 1;
  }
  let added = 0;
  for (let i = 0; i < rl.runCount; i++) {
    if (bad[rl.label[i]]) continue;
    const b = rl.row[i] * nx;
    for (let k = b + rl.start[i]; k < b + rl.end[i]; k++) {
      if (!mask[k]) {
        mask[k] = 1;
        added++;
      }
    }
  }
  return added;
}

/** Fills background pieces (4-connected) that do not touch the window border. */
function fillHoles(a: Uint8Array, h: number, w: number): void {
  const inv = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) inv[i] = a[i] ? 0 : 1;
  const rl = labelRuns(inv, [1, h, w], 4);
  const outside = new Uint8Array(rl.count + 1);
  for (let i = 0; i < rl.runCount; i++) {
    if (rl.row[i] === 0 || rl.row[i] === h - 1 || rl.start[i] === 0 || rl.end[i] === w)
      outside[rl.label[i]] = 1;
  }
  for (let i = 0; i < rl.runCount; i++) {
    if (!outside[rl.label[i]]) a.fill(1, rl.row[i] * w + rl.start[i], rl.row[i] * w + rl.end[i]);
  }
}
