/**
 * How HU are stored in the files: transfer syntax, signed/unsigned pixels with their
 * RescaleIntercept, RescaleSlope, and PixelPaddingValue outside the circular field of view.
 */

/** Encoding options of {@link writeSeries}. */
export interface EncodingOptions {
  /** Explicit (1.2.840.10008.1.2.1, default) or implicit (1.2.840.10008.1.2) VR little endian. */
  transferSyntax?: "explicit" | "implicit";
  /**
   * `"int16"` (default): PixelRepresentation 1, RescaleIntercept 0.
   * `"uint16"`: PixelRepresentation 0, RescaleIntercept -1024.
   */
  pixels?: "int16" | "uint16";
  /** RescaleSlope 1 (default) or 2 (needs even HU: make the phantom with `huStep: 2`). */
  rescaleSlope?: 1 | 2;
  /**
   * Mark pixels outside the circular field of view with PixelPaddingValue (default true):
   * -2000 for int16, 65535 for uint16 (values no HU in [-1024, 3071] maps to).
   */
  padding?: boolean;
  /**
   * File names: `"sop-uid"` (default, `<SOPInstanceUID>.dcm` as in the Kaggle data),
   * `"shuffled"` (`<8 hex>.dcm` in a seeded random order), `"instance"` (`IM00001.dcm` ...
   * by InstanceNumber).
   */
  fileNames?: "sop-uid" | "shuffled" | "instance";
  /**
   * InstanceNumber order relative to position along z: `"reversed"` (default: 1 = most
   * superior slice, as head-first scanners number them), `"shuffled"`, or `"spatial"`.
   */
  instanceOrder?: "spatial" | "reversed" | "shuffled";
}

export const TRANSFER_SYNTAX = {
  explicit: "1.2.840.10008.1.2.1",
  implicit: "1.2.840.10008.1.2",
} as const;

export interface PixelCoding {
  pixelRepresentation: 0 | 1;
  intercept: number;
  slope: number;
  /** Raw padding value, or null without padding. */
  padding: number | null;
}

export function pixelCoding(o: EncodingOptions): PixelCoding {
  const unsigned = (o.pixels ?? "int16") === "uint16";
  return {
    pixelRepresentation: unsigned ? 0 : 1,
    intercept: unsigned ? -1024 : 0,
    slope: o.rescaleSlope ?? 1,
    padding: (o.padding ?? true) ? (unsigned ? 65535 : -2000) : null,
  };
}

/**
 * Encodes one slice of HU into raw stored values: raw = (HU - intercept) / slope, exact
 * (throws a RangeError naming the first voxel that does not fit); padding where `fovIn` is 0.
 */
export function encodeSlice(
  hu: Int16Array,
  fovIn: Uint8Array | null,
  c: PixelCoding,
  where: string,
): Int16Array | Uint16Array {
  const out = c.pixelRepresentation === 1 ? new Int16Array(hu.length) : new Uint16Array(hu.length);
  const lo = c.pixelRepresentation === 1 ? -32768 : 0;
  const hi = c.pixelRepresentation === 1 ? 32767 : 65535;
  const { intercept, slope } = c;
  const padding = c.padding ?? 0;
  const pad = c.padding !== null && fovIn !== null;
  const inside = fovIn ?? hu; // any array; read only when pad is true
  // One Int16Array view for both signs (a uint16 value stores the same bits), so that the
  // loop stays monomorphic.
  const view = new Int16Array(out.buffer);
  const n = hu.length;
  for (let i = 0; i < n; i++) {
    if (pad && inside[i] === 0) {
      view[i] = padding;
      continue;
    }
    const d = hu[i] - intercept; // integers: HU and intercept are
    const raw = slope === 1 ? d : d >> 1;
    if ((slope !== 1 && (d & 1) !== 0) || raw < lo || raw > hi || (pad && raw === padding)) {
      throw new RangeError(
        `phantom: ${where} voxel ${i} (HU ${hu[i]}) cannot be stored exactly with slope ${slope}, intercept ${intercept}` +
          (slope === 2 ? " (make the phantom with huStep: 2)" : ""),
      );
    }
    view[i] = raw;
  }
  return out;
}

/** 1 inside the circular field of view of radius `r` px centred on the slice centre. */
export function fovMask(rows: number, cols: number, r: number): Uint8Array {
  const m = new Uint8Array(rows * cols);
  const cy = (rows - 1) / 2;
  const cx = (cols - 1) / 2;
  for (let y = 0; y < rows; y++) {
    const q = r * r - (y - cy) * (y - cy);
    if (q < 0) continue;
    // (x - cx)^2 <= q, evaluated exactly at the span ends.
    const h = Math.sqrt(q);
    let x0 = Math.max(0, Math.ceil(cx - h));
    let x1 = Math.min(cols - 1, Math.floor(cx + h));
    while (x0 > 0 && (x0 - 1 - cx) ** 2 <= q) x0--;
    while (x0 <= x1 && (x0 - cx) ** 2 > q) x0++;
    while (x1 < cols - 1 && (x1 + 1 - cx) ** 2 <= q) x1++;
    while (x1 >= x0 && (x1 - cx) ** 2 > q) x1--;
    if (x1 >= x0) m.fill(1, y * cols + x0, y * cols + x1 + 1);
  }
  return m;
}

/** Formats a Decimal String value: shortest exact-enough text of at most 16 characters. */
export function ds(v: number): string {
  for (let d = 6; d >= 0; d--) {
    const s = String(Number(v.toFixed(d)));
    if (s.length <= 16) return s;
  }
  return v.toExponential(8);
}
