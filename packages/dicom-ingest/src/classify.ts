import { type DicomErrorCode, isDicomError } from "./errors.js";
import { extractHeader, type SliceHeader } from "./header.js";
import { readHeaderDataSet } from "./parse.js";
import { SOP_CLASS } from "./tags.js";

/** A file that is not part of any CT image series, and why. */
export interface SkippedFile {
  file: string;
  code: DicomErrorCode;
  reason: string;
  /** The file's SeriesInstanceUID, when its header could be read and has one. */
  seriesInstanceUid?: string;
}

/** `header` is set on skipped files whose header could be read (localizers, MR, ...). */
export type Classified =
  | { ok: true; header: SliceHeader }
  | { ok: false; skipped: SkippedFile; header?: SliceHeader };

/**
 * Reads a file's header and decides whether it can belong to a CT image series:
 * NOT_DICOM / TRUNCATED / READ_FAILED (unreadable), NO_PIXEL_DATA, SECONDARY_CAPTURE,
 * LOCALIZER (ImageType contains LOCALIZER or SCOUT), NOT_CT (Modality is not CT),
 * MULTI_FRAME, MISSING_TAG (no SeriesInstanceUID); INTERNAL for an unexpected exception (a
 * bug). Never throws for a bad file.
 */
export async function classifyFile(file: string, headerBytes?: number): Promise<Classified> {
  let header: SliceHeader;
  try {
    header = extractHeader(await readHeaderDataSet(file, headerBytes));
  } catch (e) {
    if (isDicomError(e))
      return { ok: false, skipped: { file, code: e.code, reason: e.context.reason } };
    // Not an I/O error (those are DicomErrors): a bug met on this file's bytes. Reported as
    // such, never as READ_FAILED.
    const msg = e instanceof Error ? e.message : String(e);
    return { ok: false, skipped: { file, code: "INTERNAL", reason: `internal error: ${msg}` } };
  }
  const skip = (code: DicomErrorCode, reason: string): Classified => ({
    ok: false,
    skipped: { file, code, reason, seriesInstanceUid: header.seriesInstanceUid },
    header,
  });
  if (!header.pixelData)
    return skip("NO_PIXEL_DATA", `no pixel data (SOP class ${header.sopClassUid ?? "?"})`);
  if (header.sopClassUid?.startsWith(SOP_CLASS.secondaryCapture))
    return skip("SECONDARY_CAPTURE", "secondary capture image");
  if (header.imageType.includes("LOCALIZER") || header.imageType.includes("SCOUT")) {
    return skip("LOCALIZER", `localizer (ImageType ${header.imageType.join("\\")})`);
  }
  if (header.modality !== "CT") return skip("NOT_CT", `modality ${header.modality ?? "(missing)"}`);
  if ((header.numberOfFrames ?? 1) > 1)
    return skip("MULTI_FRAME", `${header.numberOfFrames} frames (enhanced CT is not supported)`);
  if (!header.seriesInstanceUid) return skip("MISSING_TAG", "no SeriesInstanceUID");
  return { ok: true, header };
}
