import type { Volume } from "@lungflow/volume";
import { labelRuns } from "./label-runs.js";
import { sliceWindow } from "./slice-window.js";

/**
 * Leak guards: a slice's airway may be at most this many times the previous slice's (plus
 * a few voxels), and at most CAP times the trachea's. Oblique bronchi grow by a few percent
 * a slice; a leak into low-density lung jumps.
 */
const STEP_FACTOR = 2;
const CAP = 30;
/** Below the seed, the search window is the previous slice's airway grown by this (voxels). */
const WINDOW_MARGIN = 32;
/** Smallest trachea cross-section (voxels) accepted as a seed. */
const MIN_SEED = 12;

/**
 * Removes the trachea and main bronchi from the tight mask, in place. The trachea is the
 * air (HU < `airwayHu`) of the mask on its most superior slice (above the apices only
 * airway is left in the mask); from there the airway is grown slice by slice towards the
 * feet: the 8-connected pieces of `hu < airwayHu` that overlap the previous slice's
 * airway. Growth stops when no piece overlaps, or when a slice's airway area jumps (more
 * than doubles) or passes 30x the trachea's (a leak into low-density lung). The airway
 * plus a one-voxel rim (the partial-volume wall) is removed from the mask. Returns the
 * indices of that whole region, in or out of the mask (so later fixes can keep it out),
 * and how many mask voxels it took.
 */
export function removeAirways(
  hu: Volume<Int16Array>,
  mask: Uint8Array,
  airwayHu: number,
): { region: Int32Array; removed: number } {
  const [nz, ny, nx] = hu.shape;
  const plane = ny * nx;
  const up = hu.direction[0][2] >= 0;
  const zs: number[] = [];
  for (let k = 0; k < nz; k++) zs.push(up ? nz - 1 - k : k);
  let k0 = 0;
  while (k0 < nz && !hasAny(mask, zs[k0] * plane, plane)) k0++;
  const removed: number[] = [];
  let taken = 0;
  let prev: Uint8Array | undefined;
  let seedArea = 0;
  let prevArea = 0;
  for (let k = k0; k < nz; k++) {
    const o = zs[k] * plane;
    // The seed comes from the mask; below it the lumen is followed in the HU itself, as the
    // opening may have cut the thin bronchi near the carina out of the mask.
    // Below the seed only a window round the previous slice's airway is searched; a piece
    // reaching the window's edge has grown too far in one slice: a leak.
    const win = prev
      ? sliceWindow(prev, 0, ny, nx, WINDOW_MARGIN)!
      : { y0: 0, y1: ny, x0: 0, x1: nx };
    const h = win.y1 - win.y0;
    const w = win.x1 - win.x0;
    const air = new Uint8Array(h * w);
    for (let y = 0; y < h; y++) {
      const b = o + (y + win.y0) * nx + win.x0;
      for (let x = 0; x < w; x++)
        air[y * w + x] = (prev || mask[b + x]) && hu.data[b + x] < airwayHu ? 1 : 0;
    }
    const rl = labelRuns(air, [1, h, w], 8);
    for (let i = 0; i < rl.runCount; i++) {
      rl.row[i] += win.y0;
      rl.start[i] += win.x0;
      rl.end[i] += win.x0;
    }
    const take = new Uint8Array(rl.count + 1);
    if (!prev) {
      for (let l = 1; l <= rl.count; l++) if (rl.sizes[l] >= MIN_SEED) take[l] = 1;
    } else {
      for (let i = 0; i < rl.runCount; i++) {
        const b = rl.row[i] * nx;
        for (let x = rl.start[i]; x < rl.end[i]; x++) {
          if (prev[b + x]) {
            take[rl.label[i]] = 1;
            break;
          }
        }
      }
    }
    let area = 0;
    for (let l = 1; l <= rl.count; l++) if (take[l]) area += rl.sizes[l];
    let leak = false;
    for (let i = 0; i < rl.runCount && prev; i++) {
      if (!take[rl.label[i]]) continue;
      const y = rl.row[i];
      if ((y === win.y0 && y > 0) || (y === win.y1 - 1 && y < ny - 1)) leak = true;
      if ((rl.start[i] === win.x0 && win.x0 > 0) || (rl.end[i] === win.x1 && win.x1 < nx))
        leak = true;
    }
    if (leak) break;
    if (
      area === 0 ||
      (prev && (area > STEP_FACTOR * prevArea + 2 * MIN_SEED || area > CAP * seedArea))
    )
      break;
    if (!prev) seedArea = area;
    prevArea = area;
    const region = new Uint8Array(plane);
    const seen = new Uint8Array(plane);
    for (let i = 0; i < rl.runCount; i++) {
      if (!take[rl.label[i]]) continue;
      const y = rl.row[i];
      region.fill(1, y * nx + rl.start[i], y * nx + rl.end[i]);
      // Remove the run and its 3x3 rim (noisy lumen voxels, partial-volume wall).
      const xa = Math.max(0, rl.start[i] - 1);
      const xb = Math.min(nx, rl.end[i] + 1);
      for (let yy = Math.max(0, y - 1); yy <= Math.min(ny - 1, y + 1); yy++) {
        for (let j = o + yy * nx + xa; j < o + yy * nx + xb; j++) {
          if (seen[j - o]) continue;
          seen[j - o] = 1;
          taken += mask[j];
          mask[j] = 0;
          removed.push(j);
        }
      }
    }
    prev = region;
  }
  return { region: Int32Array.from(removed), removed: taken };
}

function hasAny(a: Uint8Array, o: number, n: number): boolean {
  for (let i = o; i < o + n; i++) if (a[i]) return true;
  return false;
}
