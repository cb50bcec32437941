/** DICOM tags used by dicom-ingest, in dicom-parser's `xGGGGEEEE` form. */
export const TAG = {
  transferSyntaxUid: "x00020010",
  imageType: "x00080008",
  sopClassUid: "x00080016",
  sopInstanceUid: "x00080018",
  modality: "x00080060",
  seriesDescription: "x0008103e",
  patientId: "x00100020",
  sliceThickness: "x00180050",
  spacingBetweenSlices: "x00180088",
  gantryDetectorTilt: "x00181120",
  studyInstanceUid: "x0020000d",
  seriesInstanceUid: "x0020000e",
  acquisitionNumber: "x00200012",
  instanceNumber: "x00200013",
  imagePositionPatient: "x00200032",
  imageOrientationPatient: "x00200037",
  samplesPerPixel: "x00280002",
  photometricInterpretation: "x00280004",
  numberOfFrames: "x00280008",
  rows: "x00280010",
  columns: "x00280011",
  pixelSpacing: "x00280030",
  bitsAllocated: "x00280100",
  bitsStored: "x00280101",
  highBit: "x00280102",
  pixelRepresentation: "x00280103",
  pixelPaddingValue: "x00280120",
  pixelPaddingRangeLimit: "x00280121",
  rescaleIntercept: "x00281052",
  rescaleSlope: "x00281053",
  modalityLutSequence: "x00283000",
  pixelData: "x7fe00010",
} as const;

/** Transfer syntaxes dicom-ingest decodes (all lossless except where noted). */
export const TS = {
  implicitLittle: "1.2.840.10008.1.2",
  explicitLittle: "1.2.840.10008.1.2.1",
  deflated: "1.2.840.10008.1.2.1.99",
  explicitBig: "1.2.840.10008.1.2.2",
  rle: "1.2.840.10008.1.2.5",
  jpegLosslessP14: "1.2.840.10008.1.2.4.57",
  jpegLosslessSV1: "1.2.840.10008.1.2.4.70",
  jpegLs: "1.2.840.10008.1.2.4.80",
  /** near-lossless: decoded, with a warning */
  jpegLsNear: "1.2.840.10008.1.2.4.81",
  jpeg2000Lossless: "1.2.840.10008.1.2.4.90",
  /** may be lossy: decoded, with a warning */
  jpeg2000: "1.2.840.10008.1.2.4.91",
} as const;

export const SUPPORTED_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set(Object.values(TS));

export const SOP_CLASS = {
  ct: "1.2.840.10008.5.1.4.1.1.2",
  enhancedCt: "1.2.840.10008.5.1.4.1.1.2.1",
  secondaryCapture: "1.2.840.10008.5.1.4.1.1.7",
} as const;
