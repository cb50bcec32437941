import { type DicomErrorCode, isDicomError } from "./errors.js";
import { extractHeader, type SliceHeader } from "./header.js";
import { readHeaderDataSet } from "./parse.js";
import { SOP_CLASS } from "./tags.js";

/** A file that is not part of any CT image series, and why. */
export interface SkippedFile {
  file: string;
  code: DicomErrorCode;
  reason: string;
}

/** `header` is set on skipped files whose header could be read (localizers, MR, ...). */
export type Classified =
  | { ok: true; header: SliceHeader }
  | { ok: false; skipped: SkippedFile; header?: SliceHeader };

/**
 * Reads a file's header and decides whether it can belong to a CT image series:
 * NOT_DICOM / TRUNCATED / READ_FAILED (unreadable), NO_PIXEL_DATA, SECONDARY_CAPTURE,
 * LOCALIZER (ImageType contains LOCALIZER or SCOUT), NOT_CT (Modality is not CT),
 * MULTI_FRAME, MISSING_TAG (no SeriesInstanceUID). Never throws for a bad file.
 */
export async function classifyFile(file: string, headerBytes?: number): Promise<Classified> {
  let header: SliceHeader;
  try {
    header = extractHeader(await readHeaderDataSet(file, headerBytes));
  } catch (e) {
    if (isDicomError(e))
      return { ok: false, skipped: { file, code: e.code, reason: e.context.reason } };
    return {
      ok: false,
      skipped: { file, code: "READ_FAILED", reason: e instanceof Error ? e.message : String(e) },
    };
  }
  const skip = (code: DicomErrorCode, reason: string): Classified => ({
    ok: false,
    skipped: { file, code, reason },
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
