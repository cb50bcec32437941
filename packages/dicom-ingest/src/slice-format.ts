import { DicomError, type DicomErrorCode } from "./errors.js";
import type { SliceHeader } from "./header.js";
import { checkValueRanges, checkValuesParse } from "./slice-values.js";
import { SUPPORTED_TRANSFER_SYNTAXES, TS } from "./tags.js";

/** A non-fatal finding while reading a series (a recovery that was applied, or an oddity). */
export interface DicomWarning {
  code: string;
  message: string;
  /** Files concerned (dropped duplicates, dropped acquisition, ...). */
  files?: string[];
}

/** Where a series lies, for error context. */
export interface Ctx {
  seriesDir?: string;
  seriesInstanceUid?: string;
}

export function err(
  code: DicomErrorCode,
  message: string,
  ctx: Ctx,
  reason: string,
  file?: string,
  extra: Record<string, unknown> = {},
): DicomError {
  return new DicomError(code, message, { ...(file ? { file } : {}), ...ctx, reason, ...extra });
}

/** Checks the pixel format of one file (modality, samples, photometric, bits, transfer syntax, truncation). */
export function checkSliceFormat(h: SliceHeader, ctx: Ctx = {}): DicomWarning[] {
  const f = h.file;
  const warnings: DicomWarning[] = [];
  if (h.truncated)
    throw err(
      "TRUNCATED",
      `${f}: the file ends inside its pixel data`,
      ctx,
      "pixel data runs past the end of the file",
      f,
    );
  if (!h.pixelData) throw err("NO_PIXEL_DATA", `${f}: no Pixel Data`, ctx, "no pixel data", f);
  if (h.modality !== "CT")
    throw err(
      "NOT_CT",
      `${f}: modality ${h.modality ?? "(missing)"}, CT expected`,
      ctx,
      `modality ${h.modality ?? "missing"}`,
      f,
    );
  const ts = h.transferSyntaxUid ?? TS.implicitLittle;
  if (!SUPPORTED_TRANSFER_SYNTAXES.has(ts)) {
    throw err(
      "UNSUPPORTED_TRANSFER_SYNTAX",
      `${f}: transfer syntax ${ts} is not supported`,
      ctx,
      `transfer syntax ${ts}`,
      f,
    );
  }
  if (ts === TS.jpegLsNear || ts === TS.jpeg2000) {
    warnings.push({
      code: "POSSIBLY_LOSSY",
      message: `${f}: transfer syntax ${ts} may be lossy`,
      files: [f],
    });
  }
  const bad = (reason: string) =>
    err("UNSUPPORTED_PIXEL_FORMAT", `${f}: ${reason}`, ctx, reason, f);
  checkValuesParse(h, ctx);
  for (const [name, v] of [
    ["Rows", h.rows],
    ["Columns", h.columns],
    ["BitsAllocated", h.bitsAllocated],
    ["PixelRepresentation", h.pixelRepresentation],
    ["ImagePositionPatient", h.imagePosition],
    ["ImageOrientationPatient", h.imageOrientation],
    ["PixelSpacing", h.pixelSpacing],
  ] as const) {
    if (v === undefined)
      throw err("MISSING_TAG", `${f}: ${name} is missing or invalid`, ctx, `missing ${name}`, f, {
        tag: name,
      });
  }
  if ((h.samplesPerPixel ?? 1) !== 1) throw bad(`SamplesPerPixel ${h.samplesPerPixel}, 1 expected`);
  const pi = h.photometricInterpretation ?? "MONOCHROME2";
  if (pi !== "MONOCHROME2" && pi !== "MONOCHROME1")
    throw bad(`PhotometricInterpretation ${pi}, MONOCHROME2 expected`);
  if (h.bitsAllocated !== 16) throw bad(`BitsAllocated ${h.bitsAllocated}, 16 expected`);
  const bs = h.bitsStored ?? 16;
  if (bs < 1 || bs > 16) throw bad(`BitsStored ${bs}, 1..16 expected`);
  if (h.highBit !== undefined && h.highBit !== bs - 1)
    throw bad(`HighBit ${h.highBit} with BitsStored ${bs}, ${bs - 1} expected`);
  if (h.pixelRepresentation !== 0 && h.pixelRepresentation !== 1)
    throw bad(`PixelRepresentation ${h.pixelRepresentation}`);
  if (h.modalityLut && h.rescaleSlope === undefined)
    throw bad("Modality LUT Sequence instead of RescaleSlope/Intercept");
  checkValueRanges(h, ctx);
  // Native pixel data: its length is known from the header, so a file too short for its
  // Rows x Columns is refused here, before the volume is allocated.
  const px = h.pixelData;
  const native =
    ts === TS.implicitLittle ||
    ts === TS.explicitLittle ||
    ts === TS.explicitBig ||
    ts === TS.deflated;
  if (native && !px.encapsulated && px.length < h.rows! * h.columns! * 2) {
    const reason = `pixel data has ${px.length} bytes, ${h.rows}x${h.columns}x2 = ${h.rows! * h.columns! * 2} expected`;
    throw err("DECODE_FAILED", `${f}: ${reason}`, ctx, reason, f);
  }
  if ((h.numberOfFrames ?? 1) !== 1) {
    throw err(
      "MULTI_FRAME",
      `${f}: ${h.numberOfFrames} frames; only single-frame CT images are read`,
      ctx,
      "multi-frame",
      f,
    );
  }
  return warnings;
}
