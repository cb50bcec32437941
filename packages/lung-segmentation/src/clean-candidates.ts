import { type SlabKernel, slabRange } from "@lungflow/volume";
import { fillBits, morphBlocks, morphRowsX, packBelow, rowRuns, wordsPerRow } from "./bit-rows.js";
import type { Shape3 } from "./box-morphology.js";
import { labelRunList, RunList } from "./label-runs.js";
import { KDSB17_KERNELS, kernelReach } from "./segmentation-params.js";

const { kernel: OPEN, iterations: OPEN_TIMES } = KDSB17_KERNELS.opening;
/** The opening's reach along y and x (4 and 4: a 5x5 square twice is a 9x9 box). */
const OPEN_Y = kernelReach(OPEN[0], OPEN_TIMES);
const OPEN_X = kernelReach(OPEN[1], OPEN_TIMES);

/** What {@link cleanCandidates} kept. */
export interface CleanStats {
  /** Candidate voxels (HU < threshold) before the opening. */
  candidates: number;
  /** Voxels left after opening and background removal. */
  kept: number;
  /**
   * Voxels of removed border-touching components that hold no corner of their slice: not
   * the outside air (which wraps round the body to the corners) but something cut by the
   * side of the field of view, typically a lung. Measured for LUNG_TOUCHES_BORDER.
   */
  cornerless: number;
}

/**
 * kdsb17 step 3, per slice, on bit-packed rows (see bit-rows.ts): candidates
 * `hu < threshold`, binary opening with a 5x5 square twice (= a 9x9 box; outside counts as
 * 0), then background removal: pad the slice with ones and drop the 8-connected component
 * holding the padded corner, i.e. every component touching the slice border. Writes the
 * packed result into `out` (nz * ny * W words), slices `z0..z1-1` only (default: all):
 * slices are independent, so a volume can be cleaned in slabs.
 */
export function cleanCandidates(
  hu: Int16Array,
  shape: Shape3,
  threshold: number,
  out: Int32Array,
  z0 = 0,
  z1 = shape[0],
): CleanStats {
  const [, ny, nx] = shape;
  const W = wordsPerRow(nx);
  const planeW = ny * W;
  let candidates = 0;
  let kept = 0;
  let cornerless = 0;
  for (let z = z0; z < z1; z++) {
    const base = z * planeW;
    let c = 0;
    for (let y = 0; y < ny; y++)
      c += packBelow(hu, (z * ny + y) * nx, nx, threshold, out, base + y * W);
    candidates += c;
    if (c === 0) continue;
    morphRowsX(out, base, ny, nx, OPEN_X, true);
    morphBlocks(out, base, ny, W, OPEN_Y, true);
    morphRowsX(out, base, ny, nx, OPEN_X, false);
    morphBlocks(out, base, ny, W, OPEN_Y, false);
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
    const border = new Uint8Array(rl.count + 1); // 1: touches the border, 2: holds a corner
    for (let i = 0; i < rl.runCount; i++) {
      const edgeRow = rl.row[i] === 0 || rl.row[i] === ny - 1;
      const edgeCol = rl.start[i] === 0 || rl.end[i] === nx;
      const l = rl.label[i];
      if (edgeRow && edgeCol) border[l] = 2;
      else if ((edgeRow || edgeCol) && !border[l]) border[l] = 1;
    }
    for (let i = 0; i < rl.runCount; i++) {
      const b = border[rl.label[i]];
      if (b) {
        fillBits(out, base + rl.row[i] * W, rl.start[i], rl.end[i], 0);
        if (b === 1) cornerless += rl.end[i] - rl.start[i];
      } else kept += rl.end[i] - rl.start[i];
    }
  }
  return { candidates, kept, cornerless };
}

/** What {@link cleanKernel} reads and writes. */
export interface CleanSlabArgs {
  hu: Int16Array;
  shape: Shape3;
  threshold: number;
  /** Packed output, nz * ny * W words (shared). */
  out: Int32Array;
  /** Per part: candidates, kept, cornerless (3 numbers, shared). */
  stats: Float64Array;
  parts: number;
}

/** {@link cleanCandidates} over one z-slab; its counts go to the part's slots of `stats`. */
export const cleanKernel: SlabKernel<CleanSlabArgs> = {
  name: "lung-segmentation/clean",
  run(a, part) {
    const [z0, z1] = slabRange(a.shape[0], a.parts, part);
    const s = cleanCandidates(a.hu, a.shape, a.threshold, a.out, z0, z1);
    a.stats[3 * part] = s.candidates;
    a.stats[3 * part + 1] = s.kept;
    a.stats[3 * part + 2] = s.cornerless;
  },
};
