import type { DataSet } from "dicom-parser";
import type { ParsedDicom } from "./parse.js";
import { TAG } from "./tags.js";

/**
 * The header fields of one DICOM file that dicom-ingest uses (and `lungflow dicom summarize`
 * prints). Absent tags are `undefined`; nothing is defaulted here.
 */
export interface SliceHeader {
  file: string;
  fileSize: number;
  transferSyntaxUid?: string;
  sopClassUid?: string;
  sopInstanceUid?: string;
  modality?: string;
  imageType: string[];
  seriesDescription?: string;
  patientId?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  acquisitionNumber?: number;
  instanceNumber?: number;
  /** ImagePositionPatient, LPS mm */
  imagePosition?: [number, number, number];
  /** ImageOrientationPatient: row direction (3) then column direction (3) */
  imageOrientation?: [number, number, number, number, number, number];
  /** PixelSpacing: [between rows (dy), between columns (dx)] mm */
  pixelSpacing?: [number, number];
  sliceThickness?: number;
  spacingBetweenSlices?: number;
  gantryDetectorTilt?: number;
  rows?: number;
  columns?: number;
  samplesPerPixel?: number;
  photometricInterpretation?: string;
  numberOfFrames?: number;
  bitsAllocated?: number;
  bitsStored?: number;
  highBit?: number;
  pixelRepresentation?: number;
  /** PixelPaddingValue as its raw 16-bit pattern (interpreted with PixelRepresentation later) */
  pixelPaddingValue?: number;
  /** PixelPaddingRangeLimit as its raw 16-bit pattern */
  pixelPaddingRangeLimit?: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
  /** True when a Modality LUT Sequence replaces RescaleSlope/Intercept (not supported). */
  modalityLut: boolean;
  /** Pixel Data: absent for non-image objects */
  pixelData?: { offset: number; length: number; encapsulated: boolean };
  /** True when the Pixel Data element ends past the end of the file. */
  truncated: boolean;
  /**
   * Numeric tags that are present but do not hold a valid number (or not the expected count
   * of them): their field above is `undefined`, and this keeps the raw text so that the
   * error can name it. An absent tag is not listed.
   */
  invalidValues: { tag: string; value: string }[];
}

function str(ds: DataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const s = ds.string(tag);
  return s === undefined || s === "" ? undefined : s.replace(/\0/g, "").trim() || undefined;
}

/** A decimal string (DS) value: optional sign, digits with an optional point, optional exponent. */
const DS_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Collects the numeric tags whose values are present but malformed (see `invalidValues`). */
type Invalid = { tag: string; value: string }[];

/** The raw text of a tag, `undefined` when absent; "" for a present but empty value. */
function raw(ds: DataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el) return undefined;
  if (el.length === 0) return "";
  return (ds.string(tag) ?? "").replace(/\0/g, "").trim();
}

/**
 * Parses the numbers of a DS/IS tag strictly: every part must be a finite decimal number
 * (`parseFloat` would read "1.0abc" as 1 and "" as NaN, which a header must not turn into a
 * default). `n` = expected count (undefined: one value, the first of several).
 */
function parseNumbers(
  ds: DataSet,
  tag: string,
  name: string,
  invalid: Invalid,
  n?: number,
): number[] | undefined {
  const s = raw(ds, tag);
  if (s === undefined) return undefined;
  const parts = s.split("\\").map((p) => p.trim());
  const nums = parts.map((p) => (DS_NUMBER.test(p) ? Number(p) : Number.NaN));
  const ok =
    n === undefined
      ? Number.isFinite(nums[0])
      : nums.length === n && nums.every((v) => Number.isFinite(v));
  if (!ok) {
    invalid.push({ tag: name, value: s.length > 64 ? `${s.slice(0, 64)}...` : s });
    return undefined;
  }
  return nums;
}

function num(ds: DataSet, tag: string, name: string, invalid: Invalid): number | undefined {
  return parseNumbers(ds, tag, name, invalid)?.[0];
}

function nums(
  ds: DataSet,
  tag: string,
  name: string,
  n: number,
  invalid: Invalid,
): number[] | undefined {
  return parseNumbers(ds, tag, name, invalid, n);
}

function us(ds: DataSet, tag: string): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length < 2) return undefined;
  return ds.uint16(tag);
}

/** Extracts the {@link SliceHeader} of a parsed file. Never throws on odd values. */
export function extractHeader(parsed: ParsedDicom): SliceHeader {
  const ds = parsed.dataSet;
  const px = ds.elements[TAG.pixelData];
  let pixelData: SliceHeader["pixelData"];
  let truncated = false;
  if (px) {
    const encapsulated = px.hadUndefinedLength === true || px.length === 0xffffffff;
    pixelData = { offset: px.dataOffset, length: encapsulated ? -1 : px.length, encapsulated };
    // Against the (inflated, for deflated files) data when we hold it all, else the file size.
    const end = parsed.complete ? ds.byteArray.length : parsed.fileSize;
    if (!encapsulated && px.dataOffset + px.length > end) truncated = true;
  }
  const invalid: Invalid = [];
  const n = (tag: string, name: string) => num(ds, tag, name, invalid);
  const frames = n(TAG.numberOfFrames, "NumberOfFrames");
  return {
    file: parsed.file,
    fileSize: parsed.fileSize,
    transferSyntaxUid: str(ds, TAG.transferSyntaxUid),
    sopClassUid: str(ds, TAG.sopClassUid),
    sopInstanceUid: str(ds, TAG.sopInstanceUid),
    modality: str(ds, TAG.modality),
    imageType: (str(ds, TAG.imageType) ?? "")
      .split("\\")
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean),
    seriesDescription: str(ds, TAG.seriesDescription),
    patientId: str(ds, TAG.patientId),
    studyInstanceUid: str(ds, TAG.studyInstanceUid),
    seriesInstanceUid: str(ds, TAG.seriesInstanceUid),
    acquisitionNumber: n(TAG.acquisitionNumber, "AcquisitionNumber"),
    instanceNumber: n(TAG.instanceNumber, "InstanceNumber"),
    imagePosition: nums(
      ds,
      TAG.imagePositionPatient,
      "ImagePositionPatient",
      3,
      invalid,
    ) as SliceHeader["imagePosition"],
    imageOrientation: nums(
      ds,
      TAG.imageOrientationPatient,
      "ImageOrientationPatient",
      6,
      invalid,
    ) as SliceHeader["imageOrientation"],
    pixelSpacing: nums(
      ds,
      TAG.pixelSpacing,
      "PixelSpacing",
      2,
      invalid,
    ) as SliceHeader["pixelSpacing"],
    sliceThickness: n(TAG.sliceThickness, "SliceThickness"),
    spacingBetweenSlices: n(TAG.spacingBetweenSlices, "SpacingBetweenSlices"),
    gantryDetectorTilt: n(TAG.gantryDetectorTilt, "GantryDetectorTilt"),
    rows: us(ds, TAG.rows),
    columns: us(ds, TAG.columns),
    samplesPerPixel: us(ds, TAG.samplesPerPixel),
    photometricInterpretation: str(ds, TAG.photometricInterpretation),
    numberOfFrames: frames === undefined ? undefined : Math.round(frames),
    bitsAllocated: us(ds, TAG.bitsAllocated),
    bitsStored: us(ds, TAG.bitsStored),
    highBit: us(ds, TAG.highBit),
    pixelRepresentation: us(ds, TAG.pixelRepresentation),
    pixelPaddingValue: us(ds, TAG.pixelPaddingValue),
    pixelPaddingRangeLimit: us(ds, TAG.pixelPaddingRangeLimit),
    rescaleSlope: n(TAG.rescaleSlope, "RescaleSlope"),
    rescaleIntercept: n(TAG.rescaleIntercept, "RescaleIntercept"),
    modalityLut: ds.elements[TAG.modalityLutSequence] !== undefined,
    pixelData,
    truncated,
    invalidValues: invalid,
  };
}
