import { binaryDilate, binaryErode, type Shape3 } from "./box-morphology.js";
import { labelRuns } from "./label-runs.js";

/** What {@link cleanCandidates} removed, for diagnostics and the border check. */
export interface CleanStats {
  /** Candidate voxels (HU < threshold) before the opening. */
  candidates: number;
  /** Voxels left after opening and background removal. */
  kept: number;
}

/**
 * kdsb17 step 3, per slice: candidates `hu < threshold`, binary opening with a 5x5 square
 * twice (outside counts as 0), then background removal: pad the slice with ones and drop
 * the 8-connected component that holds the padded corner, i.e. every component touching
 * the slice border. Writes 0/1 into `out` (same length as `hu`); `removed`, when given,
 * receives the dropped border-touching components as runs (row = z * ny + y, start, end).
 */
export function cleanCandidates(
  hu: Int16Array,
  shape: Shape3,
  threshold: number,
  out: Uint8Array,
  removed?: number[],
): CleanStats {
  const [nz, ny, nx] = shape;
  const plane = ny * nx;
  const sliceShape: Shape3 = [1, ny, nx];
  let candidates = 0;
  let kept = 0;
  for (let z = 0; z < nz; z++) {
    const o = z * plane;
    const s = out.subarray(o, o + plane);
    for (let i = 0; i < plane; i++) {
      const c = hu[o + i] < threshold ? 1 : 0;
      s[i] = c;
      candidates += c;
    }
    binaryErode(s, sliceShape, [1, 5, 5], 2, s);
    binaryDilate(s, sliceShape, [1, 5, 5], 2, s);
    const rl = labelRuns(s, sliceShape, 8);
    if (rl.count === 0) continue;
    // A component touches the border if one of its runs is in the first/last row or
    // starts/ends at the first/last column; the ones padding then joins it to the corner.
    const border = new Uint8Array(rl.count + 1);
    for (let i = 0; i < rl.runCount; i++) {
      if (rl.row[i] === 0 || rl.row[i] === ny - 1 || rl.start[i] === 0 || rl.end[i] === nx) border[rl.label[i]] = 1;
    }
    for (let i = 0; i < rl.runCount; i++) {
      const a = rl.row[i] * nx + rl.start[i];
      const b = rl.row[i] * nx + rl.end[i];
      if (border[rl.label[i]]) {
        s.fill(0, a, b);
        if (removed) removed.push(z * ny + rl.row[i], rl.start[i], rl.end[i]);
      } else kept += b - a;
    }
  }
  return { candidates, kept };
}
