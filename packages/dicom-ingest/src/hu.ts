/**
 * Stored pixel values to Hounsfield units, per ARCHITECTURE.md "Data conventions":
 *
 * 1. The stored value `v` is the low `BitsStored` bits of each 16-bit word, sign-extended
 *    when PixelRepresentation = 1 (bits above HighBit are not pixel data).
 * 2. Padding: `v` equal to PixelPaddingValue, or between it and PixelPaddingRangeLimit
 *    (inclusive) when that is present, becomes -1000 HU (air). The padding values are read
 *    as 16-bit patterns and masked / sign-extended exactly like pixels.
 * 3. Otherwise HU = v * RescaleSlope + RescaleIntercept (float64), rounded half away from
 *    zero (exact for integer slope and intercept), then clamped to [-1024, 32767]: values
 *    below -1024 are out-of-field sentinels (-2000, -3024, ...).
 */
import { type SimdKernels, simdKernels } from "./hu-simd.js";

export interface HuParams {
  /** PixelRepresentation = 1 */
  signed: boolean;
  /** BitsStored, 1..16 */
  bitsStored: number;
  slope: number;
  intercept: number;
  /** Inclusive padding range in stored values, or undefined when the file has no padding. */
  padding?: [number, number];
}

/** Lowest HU kept; anything below is an out-of-field sentinel. */
export const HU_MIN = -1024;
/** HU given to padding pixels. */
export const HU_PADDING = -1000;
const HU_MAX = 32767;

/** Interprets one 16-bit word as a stored value (mask to BitsStored, sign-extend if signed). */
export function storedValue(word: number, signed: boolean, bitsStored: number): number {
  const shift = 32 - bitsStored;
  return signed
    ? (word << shift) >> shift
    : word & 0xffff & (bitsStored >= 16 ? 0xffff : (1 << bitsStored) - 1);
}

/** Builds the HU parameters of a slice from its header values (defaults: slope 1, intercept 0). */
export function huParams(h: {
  pixelRepresentation?: number;
  bitsStored?: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  pixelPaddingValue?: number;
  pixelPaddingRangeLimit?: number;
}): HuParams {
  const signed = h.pixelRepresentation === 1;
  const bitsStored = h.bitsStored ?? 16;
  let padding: [number, number] | undefined;
  if (h.pixelPaddingValue !== undefined) {
    const p = storedValue(h.pixelPaddingValue, signed, bitsStored);
    const l =
      h.pixelPaddingRangeLimit === undefined
        ? p
        : storedValue(h.pixelPaddingRangeLimit, signed, bitsStored);
    padding = [Math.min(p, l), Math.max(p, l)];
  }
  return {
    signed,
    bitsStored,
    slope: h.rescaleSlope ?? 1,
    intercept: h.rescaleIntercept ?? 0,
    padding,
  };
}

/**
 * Converts one slice of stored 16-bit words to HU, writing `out[outOffset + i]`.
 * The common cases (16 bits stored, slope 1, integer intercept) run in small monomorphic
 * loops with integer arithmetic only; no function is called per pixel.
 */
export function storedToHu(
  words: Uint16Array,
  p: HuParams,
  out: Int16Array,
  outOffset: number,
): void {
  const n = words.length;
  const dst = out.subarray(outOffset, outOffset + n);
  // An empty padding range [1, 0] never matches.
  const lo = p.padding ? p.padding[0] : 1;
  const hi = p.padding ? p.padding[1] : 0;
  if (
    p.bitsStored >= 16 &&
    p.slope === 1 &&
    Number.isInteger(p.intercept) &&
    Math.abs(p.intercept) < 65536
  ) {
    const ic = p.intercept | 0;
    if (simdKernels && n >= SIMD_MIN_VOXELS) {
      if (p.signed && ic === 0) {
        simdHu(simdKernels, words, dst, true, lo | 0, hi | 0);
        return;
      }
      if (!p.signed && lo > hi && ic >= HU_MIN && ic <= HU_MAX) {
        simdHu(simdKernels, words, dst, false, HU_MAX - ic, ic);
        return;
      }
    }
    if (p.signed)
      huInt16(
        new Int16Array(words.buffer, words.byteOffset, n),
        dst,
        p.intercept | 0,
        lo | 0,
        hi | 0,
      );
    else huUint16(words, dst, p.intercept | 0, lo | 0, hi | 0);
    return;
  }
  huGeneric(words, dst, p, lo, hi);
}

/** Below this many voxels the JavaScript loops run (copies would dominate). */
const SIMD_MIN_VOXELS = 256;

/**
 * The two common cases with the WebAssembly SIMD kernels of hu-simd.ts, in chunks of the
 * kernels' memory: signed (intercept 0) -> `pad(lo, hi)`; unsigned without padding
 * (intercept in [-1024, 32767]) -> `addc(cap = 32767 - ic, ic)`. The last n % 8 voxels run in
 * JavaScript with the same rule.
 */
function simdHu(
  k: SimdKernels,
  words: Uint16Array,
  dst: Int16Array,
  signed: boolean,
  a: number,
  b: number,
): void {
  const n = dst.length;
  for (let off = 0; off < n; off += k.capacity) {
    const m = Math.min(k.capacity, n - off);
    const m8 = m & ~7;
    k.u16.set(words.subarray(off, off + m8));
    if (signed) k.pad(m8 >> 3, a, b);
    else k.addc(m8 >> 3, a, b);
    dst.set(k.i16.subarray(0, m8), off);
    for (let i = off + m8; i < off + m; i++) {
      if (signed) {
        const v = (words[i] << 16) >> 16;
        dst[i] = v >= a && v <= b ? HU_PADDING : Math.max(v, HU_MIN);
      } else {
        dst[i] = Math.min(words[i] + b, HU_MAX);
      }
    }
  }
}

// `(v - lo) >>> 0 <= span` tests lo <= v <= hi with one comparison (span = hi - lo >= 0;
// v - lo < 0 wraps to a huge unsigned value). Without padding (lo > hi) a loop without the
// test runs instead.
function huInt16(src: Int16Array, dst: Int16Array, ic: number, lo: number, hi: number): void {
  const n = dst.length;
  if (ic === 0 && src.buffer === dst.buffer && src.byteOffset === dst.byteOffset) {
    // In place with intercept 0 (HU stored as is): only sentinels and padding change, so
    // the loop mostly reads (about twice as fast as rewriting every voxel).
    // Read and write through `dst` only: one array, no aliasing for the compiler to fear.
    if (lo > hi) {
      for (let i = 0; i < n; i++) if (dst[i] < HU_MIN) dst[i] = HU_MIN;
      return;
    }
    if (hi < HU_MIN) {
      // Padding below -1024 (the usual -2000 / -3024): one test per voxel.
      for (let i = 0; i < n; i++) {
        const v = dst[i];
        if (v < HU_MIN) dst[i] = v >= lo && v <= hi ? HU_PADDING : HU_MIN;
      }
      return;
    }
    for (let i = 0; i < n; i++) {
      const v = dst[i];
      if (v < HU_MIN || (v >= lo && v <= hi)) dst[i] = v >= lo && v <= hi ? HU_PADDING : HU_MIN;
    }
    return;
  }
  if (lo > hi) {
    for (let i = 0; i < n; i++) {
      const h = (src[i] + ic) | 0;
      // biome-ignore lint/complexity/useMathMinMax: integer ternaries keep the hot loop in int32
      dst[i] = h < HU_MIN ? HU_MIN : h > HU_MAX ? HU_MAX : h;
    }
    return;
  }
  const span = (hi - lo) >>> 0;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const h = (v + ic) | 0;
    // biome-ignore lint/complexity/useMathMinMax: integer ternaries keep the hot loop in int32
    dst[i] = (v - lo) >>> 0 <= span ? HU_PADDING : h < HU_MIN ? HU_MIN : h > HU_MAX ? HU_MAX : h;
  }
}

function huUint16(src: Uint16Array, dst: Int16Array, ic: number, lo: number, hi: number): void {
  const n = dst.length;
  if (lo > hi && ic >= HU_MIN) {
    // Unsigned values with intercept >= -1024 (the usual -1024) never fall below -1024.
    for (let i = 0; i < n; i++) {
      const h = src[i] + ic;
      // biome-ignore lint/complexity/useMathMinMax: integer ternaries keep the hot loop in int32
      dst[i] = h > HU_MAX ? HU_MAX : h;
    }
    return;
  }
  if (lo > hi) {
    for (let i = 0; i < n; i++) {
      const h = (src[i] + ic) | 0;
      // biome-ignore lint/complexity/useMathMinMax: integer ternaries keep the hot loop in int32
      dst[i] = h < HU_MIN ? HU_MIN : h > HU_MAX ? HU_MAX : h;
    }
    return;
  }
  const span = (hi - lo) >>> 0;
  for (let i = 0; i < n; i++) {
    const v = src[i];
    const h = (v + ic) | 0;
    // biome-ignore lint/complexity/useMathMinMax: integer ternaries keep the hot loop in int32
    dst[i] = (v - lo) >>> 0 <= span ? HU_PADDING : h < HU_MIN ? HU_MIN : h > HU_MAX ? HU_MAX : h;
  }
}

/** Any BitsStored, slope and intercept: mask / sign-extend, float64 rescale, round half away from zero. */
function huGeneric(words: Uint16Array, dst: Int16Array, p: HuParams, lo: number, hi: number): void {
  const n = dst.length;
  const { slope, intercept, signed } = p;
  const shift = 32 - p.bitsStored;
  const mask = p.bitsStored >= 16 ? 0xffff : (1 << p.bitsStored) - 1;
  for (let i = 0; i < n; i++) {
    const w = words[i];
    const v = signed ? (w << shift) >> shift : w & mask;
    if (v >= lo && v <= hi) {
      dst[i] = HU_PADDING;
      continue;
    }
    const r = v * slope + intercept;
    const h = r >= 0 ? Math.floor(r + 0.5) : -Math.floor(-r + 0.5);
    // biome-ignore lint/complexity/useMathMinMax: integer ternaries keep the hot loop in int32
    dst[i] = h < HU_MIN ? HU_MIN : h > HU_MAX ? HU_MAX : h;
  }
}
