import { rowRuns, wordsPerRow } from "./bit-rows.js";
import type { Shape3 } from "./box-morphology.js";

/**
 * Connectivity of a labelling. 4 and 8 label each z-slice on its own (2D, like
 * `skimage.measure.label(slice, connectivity=1|2)` slice by slice); 6, 18 and 26 are the
 * 3D neighbourhoods (`connectivity=1|2|3`).
 */
export type Connectivity = 4 | 8 | 6 | 18 | 26;

/**
 * Connected components of a 0/1 mask as runs of ones along x. Run i lies in row
 * `row[i]` (= z * ny + y) over x in [start[i], end[i]); runs are in raster order and
 * `rowStart[r]..rowStart[r+1]` are the runs of row r. Labels are 1..count, numbered in
 * raster order of each component's first voxel (as scipy/scikit-image number them);
 * `sizes[l]` is the voxel count of label l.
 */
export interface RunLabels {
  shape: Shape3;
  runCount: number;
  row: Int32Array;
  start: Int32Array;
  end: Int32Array;
  rowStart: Int32Array;
  label: Int32Array;
  count: number;
  sizes: Float64Array;
}

/** Neighbour rows of row (z, y) as [dz, dy, xSlack]; xSlack 1 joins runs that touch diagonally. */
const NEIGHBOURS: Record<Connectivity, [number, number, number][]> = {
  4: [[0, -1, 0]],
  8: [[0, -1, 1]],
  6: [
    [0, -1, 0],
    [-1, 0, 0],
  ],
  18: [
    [0, -1, 1],
    [-1, -1, 0],
    [-1, 0, 1],
    [-1, 1, 0],
  ],
  26: [
    [0, -1, 1],
    [-1, -1, 1],
    [-1, 0, 1],
    [-1, 1, 1],
  ],
};

/** Growable run arrays, filled row by row in raster order. */
export class RunList {
  row = new Int32Array(1024);
  start = new Int32Array(1024);
  end = new Int32Array(1024);
  n = 0;
  readonly rowStart: Int32Array;
  private r = 0;
  constructor(readonly rows: number) {
    this.rowStart = new Int32Array(rows + 1);
  }
  /** Starts row r (rows must come in increasing order). */
  beginRow(r: number): void {
    while (this.r <= r) this.rowStart[this.r++] = this.n;
  }
  push(r: number, s: number, e: number): void {
    if (this.n === this.row.length) {
      this.row = grow(this.row);
      this.start = grow(this.start);
      this.end = grow(this.end);
    }
    this.row[this.n] = r;
    this.start[this.n] = s;
    this.end[this.n] = e;
    this.n++;
  }
  finish(): void {
    while (this.r <= this.rows) this.rowStart[this.r++] = this.n;
  }
}

/** Labels the connected components of `mask` by union-find over its x-runs. */
export function labelRuns(mask: Uint8Array, shape: Shape3, connectivity: Connectivity): RunLabels {
  const [nz, ny, nx] = shape;
  if (mask.length !== nz * ny * nx)
    throw new RangeError(
      `mask has ${mask.length} voxels, shape ${shape.join("x")} needs ${nz * ny * nx}`,
    );
  const rows = nz * ny;
  const runs = new RunList(rows);
  for (let r = 0; r < rows; r++) {
    runs.beginRow(r);
    const base = r * nx;
    let x = 0;
    while (x < nx) {
      if (mask[base + x] === 0) {
        x++;
        continue;
      }
      const s = x;
      while (x < nx && mask[base + x] !== 0) x++;
      runs.push(r, s, x);
    }
  }
  runs.finish();
  return labelRunList(runs, shape, connectivity);
}

/** Labels the components of a bit-packed mask (see bit-rows.ts). */
export function labelBitRuns(
  words: Int32Array,
  shape: Shape3,
  connectivity: Connectivity,
): RunLabels {
  const [nz, ny, nx] = shape;
  const W = wordsPerRow(nx);
  const rows = nz * ny;
  const runs = new RunList(rows);
  for (let r = 0; r < rows; r++) {
    runs.beginRow(r);
    rowRuns(words, r * W, W, (s, e) => runs.push(r, s, e));
  }
  runs.finish();
  return labelRunList(runs, shape, connectivity);
}

/** Union-find labelling of runs already collected (see {@link RunList}). */
export function labelRunList(runs: RunList, shape: Shape3, connectivity: Connectivity): RunLabels {
  const [nz, ny] = shape;
  const neighbours = NEIGHBOURS[connectivity];
  if (!neighbours)
    throw new RangeError(`connectivity must be 4, 8, 6, 18 or 26, got ${connectivity}`);
  const { row, start, end, rowStart, n } = runs;
  const parent = new Int32Array(n);
  for (let i = 0; i < n; i++) parent[i] = i;
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const r = z * ny + y;
      const a0 = rowStart[r];
      const a1 = rowStart[r + 1];
      if (a0 === a1) continue;
      for (const [dz, dy, d] of neighbours) {
        const zz = z + dz;
        const yy = y + dy;
        if (zz < 0 || yy < 0 || yy >= ny) continue;
        const rr = zz * ny + yy;
        let j = rowStart[rr];
        const b1 = rowStart[rr + 1];
        for (let i = a0; i < a1 && j < b1; i++) {
          const s = start[i] - d;
          const e = end[i] + d;
          while (j < b1 && end[j] <= s) j++;
          for (let k = j; k < b1 && start[k] < e; k++) {
            // Union keeping the smaller (earlier) root, so roots are first runs.
            let ra = find(i);
            let rb = find(k);
            if (ra === rb) continue;
            if (ra > rb) [ra, rb] = [rb, ra];
            parent[rb] = ra;
          }
        }
      }
    }
  }
  const label = new Int32Array(n);
  let count = 0;
  let sizes = new Float64Array(64);
  for (let i = 0; i < n; i++) {
    const root = find(i);
    let l: number;
    if (root === i) {
      l = ++count;
      if (l >= sizes.length) {
        const s2 = new Float64Array(sizes.length * 2);
        s2.set(sizes);
        sizes = s2;
      }
    } else l = label[root];
    label[i] = l;
    sizes[l] += end[i] - start[i];
  }
  return {
    shape,
    runCount: n,
    row,
    start,
    end,
    rowStart,
    label,
    count,
    sizes: sizes.slice(0, count + 1),
  };
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

/** Dense labels (Int32, 0 = background) from run labels. */
export function runLabelsToDense(rl: RunLabels): Int32Array {
  const nx = rl.shape[2];
  const out = new Int32Array(rl.shape[0] * rl.shape[1] * nx);
  for (let i = 0; i < rl.runCount; i++)
    out.fill(rl.label[i], rl.row[i] * nx + rl.start[i], rl.row[i] * nx + rl.end[i]);
  return out;
}

/**
 * Labels connected components like `scipy.ndimage.label` / `skimage.measure.label`
 * (same numbering); returns dense labels, the component count and sizes by label.
 */
export function labelComponents(
  mask: Uint8Array,
  shape: Shape3,
  connectivity: Connectivity,
): { labels: Int32Array; count: number; sizes: Float64Array } {
  const rl = labelRuns(mask, shape, connectivity);
  return { labels: runLabelsToDense(rl), count: rl.count, sizes: rl.sizes };
}
