import {
  type SlabKernel,
  type SlabRunner,
  serialSlabs,
  slabCount,
  slabRange,
} from "@lungflow/volume";

/**
 * Otsu's threshold over an integer volume with one histogram bin per integer value, the
 * variant `skimage.filters.threshold_otsu` (scikit-image 0.19) uses for integer images:
 *
 * - bins run from the image minimum to its maximum, one per integer (`bin_centers`);
 * - `w1 = cumsum(counts)`, `w2 = reverse cumsum(counts)`, `m1 = cumsum(counts*x) / w1`,
 *   `m2 = reverse cumsum(counts*x) / w2`;
 * - `var12[i] = w1[i] * w2[i+1] * (m1[i] - m2[i+1])**2` for i in 0..n-2, and the threshold
 *   is `bin_centers[argmax(var12)]` (the first maximum);
 * - a constant image returns its value.
 *
 * Every cumulative sum is of integer-valued doubles below 2^53 (so exact) and each
 * division and product is done in the same order as numpy, so the result equals
 * scikit-image's bit for bit. Callers take voxels strictly below the threshold.
 */
export function otsuThreshold(values: Int16Array): number {
  return otsuFromHistogram(histogramInt16(values));
}

/** What {@link histogramKernel} reads and writes. */
export interface HistogramSlabArgs {
  values: Int16Array;
  /** Per part, 65536 counts (shared). */
  counts: Float64Array;
  parts: number;
}

/** The histogram of one contiguous share of `values`, into the part's 65536 slots of `counts`. */
export const histogramKernel: SlabKernel<HistogramSlabArgs> = {
  name: "lung-segmentation/histogram",
  run(a, part) {
    const [i0, i1] = slabRange(a.values.length, a.parts, part);
    histogramInt16(a.values.subarray(i0, i1), a.counts.subarray(part * 65536, (part + 1) * 65536));
  },
};

/**
 * Otsu's threshold of `values` with the histogram counted in parts a runner may spread over
 * threads (counts are integers: the sum is exact, the threshold the same).
 */
export function otsuThresholdWith(values: Int16Array, runner: SlabRunner): number {
  if (runner === serialSlabs) return otsuThreshold(values);
  const parts = slabCount(values.length, 1 << 22);
  const counts = runner.alloc(Float64Array, parts * 65536);
  runner.forEach(histogramKernel, parts, { values, counts, parts });
  const hist = counts.slice(0, 65536);
  for (let p = 1; p < parts; p++) {
    const c = counts.subarray(p * 65536, (p + 1) * 65536);
    for (let v = 0; v < 65536; v++) hist[v] += c[v];
  }
  return otsuFromHistogram(hist);
}

/** Counts of each int16 value: `hist[v + 32768]` (into `out` when given). */
export function histogramInt16(
  values: Int16Array,
  out: Float64Array = new Float64Array(65536),
): Float64Array {
  // Four interleaved tables: runs of equal values (air, padding) would otherwise chain
  // every increment through the same memory word. Uint32 counting is cheaper than Float64.
  const h0 = new Uint32Array(65536);
  const h1 = new Uint32Array(65536);
  const h2 = new Uint32Array(65536);
  const h3 = new Uint32Array(65536);
  const n = values.length;
  const n4 = n - (n % 4);
  for (let i = 0; i < n4; i += 4) {
    h0[values[i] + 32768]++;
    h1[values[i + 1] + 32768]++;
    h2[values[i + 2] + 32768]++;
    h3[values[i + 3] + 32768]++;
  }
  for (let i = n4; i < n; i++) h0[values[i] + 32768]++;
  for (let v = 0; v < 65536; v++) out[v] = h0[v] + h1[v] + h2[v] + h3[v];
  return out;
}

/**
 * Otsu threshold from a full int16 histogram (`hist[v + 32768]` = count of value v).
 * Returns the threshold as an HU value; throws a RangeError on an empty histogram.
 */
export function otsuFromHistogram(hist: Float64Array): number {
  let lo = 0;
  while (lo < hist.length && hist[lo] === 0) lo++;
  if (lo === hist.length) throw new RangeError("otsuThreshold: empty input");
  let hi = hist.length - 1;
  while (hist[hi] === 0) hi--;
  if (lo === hi) return lo - 32768;
  const n = hi - lo + 1;
  // w1, s1 forward; w2, s2 backward (numpy's reversed cumsum adds from the end).
  const w2 = new Float64Array(n);
  const s2 = new Float64Array(n);
  let w = 0;
  let s = 0;
  for (let i = n - 1; i >= 0; i--) {
    const c = hist[lo + i];
    w += c;
    s += c * (lo + i - 32768);
    w2[i] = w;
    s2[i] = s;
  }
  let best = -1;
  let bestIdx = 0;
  let w1 = 0;
  let s1 = 0;
  for (let i = 0; i < n - 1; i++) {
    const c = hist[lo + i];
    w1 += c;
    s1 += c * (lo + i - 32768);
    const d = s1 / w1 - s2[i + 1] / w2[i + 1];
    const v = w1 * w2[i + 1] * (d * d);
    // numpy.argmax: the first maximum wins (strict >).
    if (v > best) {
      best = v;
      bestIdx = i;
    }
  }
  return lo + bestIdx - 32768;
}
