/**
 * Bit-packed binary volumes for the fast path of `segmentLungs`: each row of `nx` voxels is
 * `W = ceil(nx / 32)` 32-bit words, bit j of word w holding voxel x = 32 w + j (padding
 * bits past nx stay 0). Box erosion/dilation then works on 32 voxels per operation: a
 * window of length L is built by doubling (ones-runs of 1, 2, 4, ... then one overlapping
 * step), so a pass costs O(log L) word operations per word whatever the box.
 * Semantics are those of `binaryErode` / `binaryDilate` (outside = 0), checked in the tests.
 */

/** Words per row. */
export const wordsPerRow = (nx: number): number => (nx + 31) >>> 5;

/** Packs `hu[off .. off+nx) < threshold` into `words[wb .. wb+W)`. */
export function packBelow(
  hu: Int16Array,
  off: number,
  nx: number,
  threshold: number,
  words: Int32Array,
  wb: number,
): number {
  let count = 0;
  const W = wordsPerRow(nx);
  for (let w = 0; w < W; w++) {
    let v = 0;
    const x0 = off + 32 * w;
    const n = Math.min(32, nx - 32 * w);
    for (let j = 0; j < n; j++) v |= ((hu[x0 + j] - threshold) >>> 31) << j;
    words[wb + w] = v;
    count += popcount(v);
  }
  return count;
}

export function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/** Erodes (`erode`) or dilates each of `rows` packed rows along x with a window of 2r+1, in place. */
export function morphRowsX(
  words: Int32Array,
  base: number,
  rows: number,
  nx: number,
  r: number,
  erode: boolean,
): void {
  if (r === 0) return;
  const W = wordsPerRow(nx);
  const L = 2 * r + 1;
  // The row shifted up by r voxels (r zeros in front, zeros after): padded voxel p then
  // ORs/ANDs over padded [p .. p+L-1] = original [p-r .. p+r], outside counting as 0.
  const Wp = wordsPerRow(nx + 2 * r) + 1;
  const a = new Int32Array(Wp);
  const lastMask = nx % 32 === 0 ? -1 : (1 << (nx % 32)) - 1;
  const ws = r >>> 5;
  const k = r & 31;
  for (let row = 0; row < rows; row++) {
    const b = base + row * W;
    // An empty row stays empty under both operations.
    let any = 0;
    for (let w = 0; w < W; w++) any |= words[b + w];
    if (any === 0) continue;
    for (let w = 0; w < Wp; w++) {
      const q = w - ws;
      const hi = q >= 0 && q < W ? words[b + q] : 0;
      const lo = q - 1 >= 0 && q - 1 < W ? words[b + q - 1] : 0;
      a[w] = k === 0 ? hi : (hi << k) | (lo >>> (32 - k));
    }
    let len = 1;
    while (2 * len <= L) {
      shiftOp(a, Wp, len, erode);
      len *= 2;
    }
    if (len < L) shiftOp(a, Wp, L - len, erode);
    for (let w = 0; w < W; w++) words[b + w] = a[w];
    words[b + W - 1] &= lastMask;
  }
}

/** a[p] := a[p] OP a[p + k] for every voxel p (ascending, so a[p + k] is still the old value). */
function shiftOp(a: Int32Array, W: number, k: number, erode: boolean): void {
  const ws = k >>> 5;
  const bs = k & 31;
  for (let w = 0; w < W; w++) {
    const q = w + ws;
    const lo = q < W ? a[q] : 0;
    const hi = q + 1 < W ? a[q + 1] : 0;
    const s = bs === 0 ? lo : (lo >>> bs) | (hi << (32 - bs));
    a[w] = erode ? a[w] & s : a[w] | s;
  }
}

/**
 * Erodes or dilates along an axis whose positions are blocks of `m` words: `n` blocks
 * starting at `base`, block p at `base + p * m`, window 2r+1, outside = 0. In place.
 */
export function morphBlocks(
  words: Int32Array,
  base: number,
  n: number,
  m: number,
  r: number,
  erode: boolean,
): void {
  if (r === 0) return;
  const L = 2 * r + 1;
  // Padded copy: r zero blocks, the n blocks, r zero blocks; padded[p] then ORs/ANDs
  // over padded[p .. p+L-1] = original [p-r .. p+r].
  const t = new Int32Array((n + 2 * r) * m);
  t.set(words.subarray(base, base + n * m), r * m);
  const total = n + 2 * r;
  let len = 1;
  const step = (k: number) => {
    const end = (total - k) * m;
    const km = k * m;
    if (erode) for (let i = 0; i < end; i++) t[i] &= t[i + km];
    else for (let i = 0; i < end; i++) t[i] |= t[i + km];
    // positions past total - k see outside (0): AND gives 0, OR keeps t
    if (erode) t.fill(0, end, total * m);
  };
  while (2 * len <= L) {
    step(len);
    len *= 2;
  }
  if (len < L) step(L - len);
  words.set(t.subarray(0, n * m), base);
}

/**
 * Runs of ones of one packed row, appended as (start, end) pairs (end exclusive) through
 * `emit`. Uses count-trailing-zeros on whole words, so empty stretches cost nothing.
 */
export function rowRuns(
  words: Int32Array,
  b: number,
  W: number,
  emit: (s: number, e: number) => void,
): void {
  let open = -1;
  for (let w = 0; w < W; w++) {
    let v = words[b + w];
    const off = w << 5;
    if (open >= 0) {
      if (v === -1) continue;
      const z = ctz(~v); // trailing ones
      emit(open, off + z);
      open = -1;
      v &= -1 << z; // z < 32 here
    }
    while (v !== 0) {
      const s = ctz(v);
      const inv = ~v & (-1 << s);
      if (inv === 0) {
        open = off + s;
        break;
      }
      const e = ctz(inv);
      emit(off + s, off + e);
      v &= -1 << e;
    }
  }
  if (open >= 0) emit(open, W << 5);
}

/** Number of trailing zero bits of a non-zero 32-bit value. */
export function ctz(v: number): number {
  return 31 - Math.clz32(v & -v);
}

/** Sets bits [s, e) of the row at word `b` to `bit`. */
export function fillBits(words: Int32Array, b: number, s: number, e: number, bit: 0 | 1): void {
  let x = s;
  while (x < e) {
    const w = x >>> 5;
    const j = x & 31;
    const n = Math.min(32 - j, e - x);
    const m = n === 32 ? -1 : ((1 << n) - 1) << j;
    if (bit) words[b + w] |= m;
    else words[b + w] &= ~m;
    x += n;
  }
}

/** Count of set bits in [s, e) of the row at word `b`. */
export function countBits(words: Int32Array, b: number, s: number, e: number): number {
  let x = s;
  let c = 0;
  while (x < e) {
    const w = x >>> 5;
    const j = x & 31;
    const n = Math.min(32 - j, e - x);
    const m = n === 32 ? -1 : ((1 << n) - 1) << j;
    c += popcount(words[b + w] & m);
    x += n;
  }
  return c;
}
