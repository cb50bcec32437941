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
 * Loops are specialised (integer slope 1 and integer intercept, the common case, avoid
 * floating-point rounding) and call no function per pixel.
 */
export function storedToHu(
  words: Uint16Array,
  p: HuParams,
  out: Int16Array,
  outOffset: number,
): void {
  const n = words.length;
  const padLo = p.padding ? p.padding[0] : 1;
  const padHi = p.padding ? p.padding[1] : 0; // empty range when no padding
  const { slope, intercept } = p;
  const shift = 32 - p.bitsStored;
  const mask = p.bitsStored >= 16 ? 0xffff : (1 << p.bitsStored) - 1;
  const plain = p.bitsStored >= 16;
  if (slope === 1 && Number.isInteger(intercept)) {
    if (plain && p.signed) {
      const src = new Int16Array(words.buffer, words.byteOffset, n);
      for (let i = 0; i < n; i++) {
        const v = src[i];
        let h = v + intercept;
        if (v >= padLo && v <= padHi) h = HU_PADDING;
        else if (h < HU_MIN) h = HU_MIN;
        else if (h > HU_MAX) h = HU_MAX;
        out[outOffset + i] = h;
      }
      return;
    }
    if (plain) {
      for (let i = 0; i < n; i++) {
        const v = words[i];
        let h = v + intercept;
        if (v >= padLo && v <= padHi) h = HU_PADDING;
        else if (h < HU_MIN) h = HU_MIN;
        else if (h > HU_MAX) h = HU_MAX;
        out[outOffset + i] = h;
      }
      return;
    }
  }
  const signed = p.signed;
  for (let i = 0; i < n; i++) {
    const w = words[i];
    const v = signed ? (w << shift) >> shift : w & mask;
    if (v >= padLo && v <= padHi) {
      out[outOffset + i] = HU_PADDING;
      continue;
    }
    const r = v * slope + intercept;
    let h = r >= 0 ? Math.floor(r + 0.5) : -Math.floor(-r + 0.5);
    if (h < HU_MIN) h = HU_MIN;
    else if (h > HU_MAX) h = HU_MAX;
    out[outOffset + i] = h;
  }
}
