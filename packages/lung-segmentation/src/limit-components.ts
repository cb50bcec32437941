import type { Volume } from "@lungflow/volume";
import { labelRuns } from "./label-runs.js";

/**
 * Drops pieces (26-connected) of the mask that are smaller than `minFraction` of the
 * largest piece, or lie wholly below it (their most superior voxel is inferior to its
 * most inferior one): bowel gas under the diaphragm, stray air pockets. "Superior" is
 * +Z in LPS, read from the volume's z direction. Returns the voxels removed.
 */
export function limitComponents(
  mask: Uint8Array,
  hu: Volume<Int16Array>,
  minFraction: number,
): number {
  const [, ny, nx] = hu.shape;
  const rl = labelRuns(mask, hu.shape, 26);
  if (rl.count <= 1) return 0;
  const up = hu.direction[0][2] >= 0; // larger z index = more superior
  const lo = new Float64Array(rl.count + 1).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(rl.count + 1).fill(Number.NEGATIVE_INFINITY);
  for (let i = 0; i < rl.runCount; i++) {
    const l = rl.label[i];
    const z = Math.floor(rl.row[i] / ny);
    const s = up ? z : -z; // superior coordinate
    if (s < lo[l]) lo[l] = s;
    if (s > hi[l]) hi[l] = s;
  }
  let big = 1;
  for (let l = 2; l <= rl.count; l++) if (rl.sizes[l] > rl.sizes[big]) big = l;
  const drop = new Uint8Array(rl.count + 1);
  let removed = 0;
  for (let l = 1; l <= rl.count; l++) {
    if (l === big) continue;
    if (rl.sizes[l] < minFraction * rl.sizes[big] || hi[l] < lo[big]) {
      drop[l] = 1;
      removed += rl.sizes[l];
    }
  }
  for (let i = 0; i < rl.runCount; i++) {
    if (drop[rl.label[i]]) mask.fill(0, rl.row[i] * nx + rl.start[i], rl.row[i] * nx + rl.end[i]);
  }
  return removed;
}
