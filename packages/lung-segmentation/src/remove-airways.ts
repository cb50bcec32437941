import type { Volume } from "@lungflow/volume";
import { labelRuns } from "./label-runs.js";

/**
 * Leak guards: a slice's airway may be at most this many times the previous slice's (plus
 * a few voxels), and at most CAP times the trachea's. Oblique bronchi grow by a few percent
 * a slice; a leak into low-density lung jumps.
 */
const STEP_FACTOR = 2;
const CAP = 30;
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
  const air = new Uint8Array(plane);
  for (let k = k0; k < nz; k++) {
    const o = zs[k] * plane;
    // The seed comes from the mask; below it the lumen is followed in the HU itself, as the
    // opening may have cut the thin bronchi near the carina out of the mask.
    for (let i = 0; i < plane; i++)
      air[i] = (prev || mask[o + i]) && hu.data[o + i] < airwayHu ? 1 : 0;
    const rl = labelRuns(air, [1, ny, nx], 8);
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
