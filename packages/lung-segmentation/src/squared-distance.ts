/**
 * Exact squared Euclidean distance, per pixel of an h x w image, to the nearest pixel whose
 * value is `target` (Felzenszwalb & Huttenlocher's lower envelope of parabolas, one pass
 * per axis, linear time). Pixels with no target pixel get a large value.
 */
export function squaredDistance2D(
  img: Uint8Array,
  h: number,
  w: number,
  target: 0 | 1,
): Float64Array {
  const INF = 1e20;
  const d = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) d[i] = img[i] === target ? 0 : INF;
  const n = Math.max(h, w);
  const f = new Float64Array(n);
  const out = new Float64Array(n);
  const v = new Int32Array(n);
  const zb = new Float64Array(n + 1);
  for (let x = 0; x < w; x++) {
    for (let y = 0; y < h; y++) f[y] = d[y * w + x];
    envelope(f, h, out, v, zb);
    for (let y = 0; y < h; y++) d[y * w + x] = out[y];
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) f[x] = d[y * w + x];
    envelope(f, w, out, v, zb);
    for (let x = 0; x < w; x++) d[y * w + x] = out[x];
  }
  return d;
}

/** 1D squared distance transform of sampled function f (length n) into out. */
function envelope(
  f: Float64Array,
  n: number,
  out: Float64Array,
  v: Int32Array,
  zb: Float64Array,
): void {
  let k = 0;
  v[0] = 0;
  zb[0] = Number.NEGATIVE_INFINITY;
  zb[1] = Number.POSITIVE_INFINITY;
  for (let q = 1; q < n; q++) {
    let s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    while (s <= zb[k]) {
      k--;
      s = (f[q] + q * q - (f[v[k]] + v[k] * v[k])) / (2 * q - 2 * v[k]);
    }
    k++;
    v[k] = q;
    zb[k] = s;
    zb[k + 1] = Number.POSITIVE_INFINITY;
  }
  k = 0;
  for (let q = 0; q < n; q++) {
    while (zb[k + 1] < q) k++;
    const dq = q - v[k];
    out[q] = dq * dq + f[v[k]];
  }
}
