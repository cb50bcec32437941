import { classifyFile } from "./classify.js";
import { extractHeader, type SliceHeader } from "./header.js";
import { storedValue } from "./hu.js";
import { readHeaderDataSet } from "./parse.js";
import { mapLimit, walkFiles } from "./walk.js";

/** Reads and returns the header of one file. Throws DicomError (NOT_DICOM, TRUNCATED, READ_FAILED). */
export async function readHeader(file: string, headerBytes?: number): Promise<SliceHeader> {
  return extractHeader(await readHeaderDataSet(file, headerBytes));
}

/** Columns of `lungflow dicom summarize`, in order (kdsb17's EDA fields plus a status). */
export const SUMMARY_COLUMNS = [
  "path",
  "status",
  "error",
  "patient_id",
  "study_uid",
  "series_uid",
  "sop_uid",
  "sop_class_uid",
  "modality",
  "image_type",
  "series_description",
  "instance_number",
  "acquisition_number",
  "ipp_x",
  "ipp_y",
  "ipp_z",
  "iop",
  "pixel_spacing_row",
  "pixel_spacing_col",
  "slice_thickness",
  "gantry_tilt",
  "rows",
  "cols",
  "bits_allocated",
  "bits_stored",
  "high_bit",
  "pixel_representation",
  "photometric",
  "rescale_slope",
  "rescale_intercept",
  "padding_value",
  "padding_range_limit",
  "transfer_syntax",
  "file_size",
] as const;

export type SummaryRow = Record<(typeof SUMMARY_COLUMNS)[number], string | number | undefined>;

function row(file: string, h: SliceHeader | undefined, status: string, error: string): SummaryRow {
  const signed = h?.pixelRepresentation === 1;
  const bs = h?.bitsStored ?? 16;
  const pad = (v: number | undefined) => (v === undefined ? undefined : storedValue(v, signed, bs));
  return {
    path: file,
    status,
    error,
    patient_id: h?.patientId,
    study_uid: h?.studyInstanceUid,
    series_uid: h?.seriesInstanceUid,
    sop_uid: h?.sopInstanceUid,
    sop_class_uid: h?.sopClassUid,
    modality: h?.modality,
    image_type: h?.imageType.join("\\"),
    series_description: h?.seriesDescription,
    instance_number: h?.instanceNumber,
    acquisition_number: h?.acquisitionNumber,
    ipp_x: h?.imagePosition?.[0],
    ipp_y: h?.imagePosition?.[1],
    ipp_z: h?.imagePosition?.[2],
    iop: h?.imageOrientation?.join("\\"),
    pixel_spacing_row: h?.pixelSpacing?.[0],
    pixel_spacing_col: h?.pixelSpacing?.[1],
    slice_thickness: h?.sliceThickness,
    gantry_tilt: h?.gantryDetectorTilt,
    rows: h?.rows,
    cols: h?.columns,
    bits_allocated: h?.bitsAllocated,
    bits_stored: h?.bitsStored,
    high_bit: h?.highBit,
    pixel_representation: h?.pixelRepresentation,
    photometric: h?.photometricInterpretation,
    rescale_slope: h?.rescaleSlope,
    rescale_intercept: h?.rescaleIntercept,
    padding_value: pad(h?.pixelPaddingValue),
    padding_range_limit: pad(h?.pixelPaddingRangeLimit),
    transfer_syntax: h?.transferSyntaxUid,
    file_size: h?.fileSize,
  };
}

/**
 * One summary row per file under `root`, streamed in walk order (nothing accumulates):
 * `status` is "ok" for a CT image, else the skip code (NOT_DICOM, LOCALIZER, TRUNCATED, ...)
 * with `error` saying why. Header fields are filled whenever the header could be read.
 */
export async function* summarizeFiles(
  root: string,
  opts: { concurrency?: number; signal?: AbortSignal } = {},
): AsyncGenerator<SummaryRow> {
  const work = async (file: string): Promise<SummaryRow> => {
    const c = await classifyFile(file);
    if (c.ok)
      return row(
        file,
        c.header,
        c.header.truncated ? "TRUNCATED" : "ok",
        c.header.truncated ? "pixel data runs past the end of the file" : "",
      );
    return row(file, c.header, c.skipped.code, c.skipped.reason);
  };
  yield* mapLimit(walkFiles(root, { signal: opts.signal }), opts.concurrency ?? 8, work);
}

/** Formats one CSV line (RFC 4180 quoting). */
export function csvLine(values: readonly (string | number | undefined)[]): string {
  return values
    .map((v) => {
      if (v === undefined) return "";
      const s = String(v);
      return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
    })
    .join(",");
}
