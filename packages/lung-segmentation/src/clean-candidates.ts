import type { Shape3 } from "./box-morphology.js";
import { fillBits, morphBlocks, morphRowsX, packBelow, rowRuns, wordsPerRow } from "./bit-rows.js";
import { labelRunList, RunList } from "./label-runs.js";

/** What {@link cleanCandidates} kept. */
export interface CleanStats {
  /** Candidate voxels (HU < threshold) before the opening. */
  candidates: number;
  /** Voxels left after opening and background removal. */
  kept: number;
}

/**
 * kdsb17 step 3, per slice, on bit-packed rows (see bit-rows.ts): candidates
 * `hu < threshold`, binary opening with a 5x5 square twice (= a 9x9 box; outside counts as
 * 0), then background removal: pad the slice with ones and drop the 8-connected component
 * holding the padded corner, i.e. every component touching the slice border. Writes the
 * packed result into `out` (nz * ny * W words); `removed`, when given, receives the dropped
 * components as runs (row = z * ny + y, start, end).
 */
export function cleanCandidates(hu: Int16Array, shape: Shape3, threshold: number, out: Int32Array, removed?: number[]): CleanStats {
  const [nz, ny, nx] = shape;
  const W = wordsPerRow(nx);
  const planeW = ny * W;
  let candidates = 0;
  let kept = 0;
  for (let z = 0; z < nz; z++) {
    const base = z * planeW;
    let c = 0;
    for (let y = 0; y < ny; y++) c += packBelow(hu, (z * ny + y) * nx, nx, threshold, out, base + y * W);
    candidates += c;
    if (c === 0) continue;
    morphRowsX(out, base, ny, nx, 4, true);
    morphBlocks(out, base, ny, W, 4, true);
    morphRowsX(out, base, ny, nx, 4, false);
    morphBlocks(out, base, ny, W, 4, false);
    const runs = new RunList(ny);
    for (let y = 0; y < ny; y++) {
      runs.beginRow(y);
      rowRuns(out, base + y * W, W, (s, e) => runs.push(y, s, e));
    }
    runs.finish();
    if (runs.n === 0) continue;
    const rl = labelRunList(runs, [1, ny, nx], 8);
    // A component touches the border if one of its runs is in the first/last row or
    // starts/ends at the first/last column; the ones padding then joins it to the corner.
    const border = new Uint8Array(rl.count + 1);
    for (let i = 0; i < rl.runCount; i++) {
      if (rl.row[i] === 0 || rl.row[i] === ny - 1 || rl.start[i] === 0 || rl.end[i] === nx) border[rl.label[i]] = 1;
    }
    for (let i = 0; i < rl.runCount; i++) {
      if (border[rl.label[i]]) {
        fillBits(out, base + rl.row[i] * W, rl.start[i], rl.end[i], 0);
        removed?.push(z * ny + rl.row[i], rl.start[i], rl.end[i]);
      } else kept += rl.end[i] - rl.start[i];
    }
  }
  return { candidates, kept };
}
