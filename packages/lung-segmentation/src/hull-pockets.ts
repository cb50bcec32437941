import { labelRuns } from "./label-runs.js";

/**
 * The pockets between a 2D piece and its convex hull (`hull & !piece`), marked in `out`
 * (h x w, same window as `a`): 1 for an 8-connected pocket that fits in a `maxDy` x `maxDx`
 * box and a disc of that size (a nodule's section), 2 for any other. The pleura is
 * convex, so a nodule against it leaves such a pocket, which a closing fills only up to
 * the chord across it; the heart's notch is a long crescent.
 */
export function hullPockets(
  a: Uint8Array,
  h: number,
  w: number,
  maxDy: number,
  maxDx: number,
  out: Uint8Array,
): void {
  // Hull of the pixel centres at the ends of every row's extent (monotone chain).
  const pts: number[] = [];
  for (let y = 0; y < h; y++) {
    let lo = -1;
    let hi = -1;
    for (let x = 0; x < w; x++) {
      if (a[y * w + x]) {
        if (lo < 0) lo = x;
        hi = x;
      }
    }
    if (lo >= 0) pts.push(lo, y, hi, y);
  }
  const n = pts.length / 2;
  if (n < 3) return;
  const idx = Array.from({ length: n }, (_, i) => i).sort(
    (i, j) => pts[2 * i] - pts[2 * j] || pts[2 * i + 1] - pts[2 * j + 1],
  );
  const cross = (o: number, p: number, q: number) =>
    (pts[2 * p] - pts[2 * o]) * (pts[2 * q + 1] - pts[2 * o + 1]) -
    (pts[2 * p + 1] - pts[2 * o + 1]) * (pts[2 * q] - pts[2 * o]);
  const hull: number[] = [];
  for (const pass of [idx, [...idx].reverse()]) {
    const start = hull.length;
    for (const i of pass) {
      while (
        hull.length >= start + 2 &&
        cross(hull[hull.length - 2], hull[hull.length - 1], i) <= 0
      )
        hull.pop();
      hull.push(i);
    }
    hull.pop();
  }
  if (hull.length < 3) return;
  // Rasterise: per row, the x range where the row's centre line crosses the hull.
  const add = new Uint8Array(h * w);
  const xmin = new Float64Array(h).fill(Number.POSITIVE_INFINITY);
  const xmax = new Float64Array(h).fill(Number.NEGATIVE_INFINITY);
  for (let k = 0; k < hull.length; k++) {
    const p = hull[k];
    const q = hull[(k + 1) % hull.length];
    const [x1, y1, x2, y2] = [pts[2 * p], pts[2 * p + 1], pts[2 * q], pts[2 * q + 1]];
    const ya = Math.min(y1, y2);
    const yb = Math.max(y1, y2);
    for (let y = ya; y <= yb; y++) {
      const x = y1 === y2 ? Math.min(x1, x2) : x1 + ((x2 - x1) * (y - y1)) / (y2 - y1);
      const xr = y1 === y2 ? Math.max(x1, x2) : x;
      if (x < xmin[y]) xmin[y] = x;
      if (xr > xmax[y]) xmax[y] = xr;
    }
  }
  for (let y = 0; y < h; y++) {
    if (!(xmax[y] >= xmin[y])) continue;
    const x0 = Math.max(0, Math.ceil(xmin[y] - 1e-9));
    const x1 = Math.min(w - 1, Math.floor(xmax[y] + 1e-9));
    for (let x = x0; x <= x1; x++) if (!a[y * w + x]) add[y * w + x] = 1;
  }
  const rl = labelRuns(add, [1, h, w], 8);
  const ext = new Int32Array(4 * (rl.count + 1));
  for (let l = 1; l <= rl.count; l++) ext.set([h, -1, w, -1], 4 * l);
  for (let i = 0; i < rl.runCount; i++) {
    const e = 4 * rl.label[i];
    ext[e] = Math.min(ext[e], rl.row[i]);
    ext[e + 1] = Math.max(ext[e + 1], rl.row[i]);
    ext[e + 2] = Math.min(ext[e + 2], rl.start[i]);
    ext[e + 3] = Math.max(ext[e + 3], rl.end[i] - 1);
  }
  const maxArea = (Math.PI / 4) * maxDy * maxDx;
  for (let i = 0; i < rl.runCount; i++) {
    const l = rl.label[i];
    const e = 4 * l;
    const fits =
      ext[e + 1] - ext[e] + 1 <= maxDy &&
      ext[e + 3] - ext[e + 2] + 1 <= maxDx &&
      rl.sizes[l] <= maxArea;
    out.fill(fits ? 1 : 2, rl.row[i] * w + rl.start[i], rl.row[i] * w + rl.end[i]);
  }
}
