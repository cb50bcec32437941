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
}

function str(ds: DataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const s = ds.string(tag);
  return s === undefined || s === "" ? undefined : s.replace(/\0/g, "").trim() || undefined;
}

function num(ds: DataSet, tag: string, index = 0): number | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const v = ds.floatString(tag, index);
  return v === undefined || Number.isNaN(v) ? undefined : v;
}

function nums(ds: DataSet, tag: string, n: number): number[] | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const s = ds.string(tag);
  if (s === undefined) return undefined;
  const parts = s.split("\\").map((p) => Number.parseFloat(p));
  if (parts.length !== n || parts.some((p) => !Number.isFinite(p))) return undefined;
  return parts;
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
  const frames = num(ds, TAG.numberOfFrames);
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
    acquisitionNumber: num(ds, TAG.acquisitionNumber),
    instanceNumber: num(ds, TAG.instanceNumber),
    imagePosition: nums(ds, TAG.imagePositionPatient, 3) as SliceHeader["imagePosition"],
    imageOrientation: nums(ds, TAG.imageOrientationPatient, 6) as SliceHeader["imageOrientation"],
    pixelSpacing: nums(ds, TAG.pixelSpacing, 2) as SliceHeader["pixelSpacing"],
    sliceThickness: num(ds, TAG.sliceThickness),
    spacingBetweenSlices: num(ds, TAG.spacingBetweenSlices),
    gantryDetectorTilt: num(ds, TAG.gantryDetectorTilt),
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
    rescaleSlope: num(ds, TAG.rescaleSlope),
    rescaleIntercept: num(ds, TAG.rescaleIntercept),
    modalityLut: ds.elements[TAG.modalityLutSequence] !== undefined,
    pixelData,
    truncated,
  };
}
