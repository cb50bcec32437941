import { LungflowError } from "@lungflow/volume";

/**
 * Stable failure codes of dicom-ingest. A code names one kind of failure; CLIs and reports
 * print it, tests match on it. See the README's error table for when each is raised.
 */
export type DicomErrorCode =
  | "NOT_DICOM"
  | "TRUNCATED"
  | "NOT_CT"
  | "LOCALIZER"
  | "SECONDARY_CAPTURE"
  | "NO_PIXEL_DATA"
  | "MULTI_FRAME"
  | "UNSUPPORTED_TRANSFER_SYNTAX"
  | "UNSUPPORTED_PIXEL_FORMAT"
  | "DECODE_FAILED"
  | "MISSING_TAG"
  | "INVALID_VALUE"
  | "DEGENERATE_ORIENTATION"
  | "TOO_LARGE"
  | "INCONSISTENT_GEOMETRY"
  | "MIXED_ORIENTATION"
  | "NOT_AXIAL"
  | "GANTRY_TILT"
  | "NONUNIFORM_SPACING"
  | "MISSING_SLICES"
  | "DUPLICATE_SLICE_CONFLICT"
  | "TOO_FEW_SLICES"
  | "MULTIPLE_PATIENTS"
  | "NO_SERIES"
  | "READ_FAILED"
  | "INTERNAL";

/** Where a DicomError happened and why. Paths and UIDs only, never patient names. */
export interface DicomErrorContext {
  /** The file at fault, when one file is. */
  file?: string;
  /** The folder holding the series (the common parent of its files). */
  seriesDir?: string;
  seriesInstanceUid?: string;
  /** A short machine-readable explanation, e.g. "gap of 2 slices at z=37.5 mm". */
  reason: string;
  [key: string]: unknown;
}

/**
 * Thrown when a file or a series cannot become a valid HU volume. `code` says what went
 * wrong (stable, see {@link DicomErrorCode}); `context.file` / `context.seriesDir` say where.
 * Recovery: per-file codes (NOT_DICOM, LOCALIZER, NOT_CT, ...) are reported by
 * `discoverSeries` as skipped files and never thrown; series-level codes (GANTRY_TILT,
 * MISSING_SLICES, ...) reject that series only: the rest of a batch goes on.
 */
export class DicomError extends LungflowError {
  declare readonly _tag: "DicomError";
  declare readonly code: DicomErrorCode;
  declare readonly context: DicomErrorContext;

  constructor(
    code: DicomErrorCode,
    message: string,
    context: DicomErrorContext,
    options?: { cause?: unknown },
  ) {
    super("DicomError", code, message, context, options);
  }
}

/** True if `err` is a DicomError, optionally with one of the given codes. */
export function isDicomError(err: unknown, ...codes: DicomErrorCode[]): err is DicomError {
  if (!(err instanceof Error) || (err as { _tag?: unknown })._tag !== "DicomError") return false;
  return codes.length === 0 || codes.includes((err as DicomError).code);
}
