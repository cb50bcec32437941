/**
 * @lungflow/dicom-ingest: find CT series in a folder tree, validate them, decode their
 * pixels (native, deflated, RLE, JPEG lossless, JPEG-LS, JPEG 2000) and stack them into an
 * Int16 Hounsfield-unit `Volume`. The only package that imports dicom-parser.
 *
 * ```ts
 * import { discoverSeries, readSeries, isDicomError } from "@lungflow/dicom-ingest";
 * const found = await discoverSeries("stage1/");
 * for (const p of found.patients) {
 *   if (!p.chosen) continue;
 *   try {
 *     const { volume, meta } = await readSeries(p.chosen);
 *     console.log(p.patientId, volume.shape, meta.sourceSpacing, meta.warnings.length);
 *   } catch (e) {
 *     if (isDicomError(e)) console.log(p.patientId, e.code, e.context.reason);
 *     else throw e;
 *   }
 * }
 * ```
 */

export type { SkippedFile } from "./classify.js";
export {
  type DiscoveredPatient,
  type DiscoverOptions,
  type Discovery,
  discoverSeries,
  type OtherSeries,
} from "./discover.js";
export { DicomError, type DicomErrorCode, type DicomErrorContext, isDicomError } from "./errors.js";
export type { SliceHeader } from "./header.js";
export { HU_MIN, HU_PADDING, type HuParams, huParams, storedToHu } from "./hu.js";
export {
  type Affine,
  decodeNifti,
  encodeNiftiRaw,
  isNiftiError,
  NiftiError,
  type NiftiErrorCode,
  type NiftiImage,
  type NiftiWriteOptions,
  niftiAffine,
  niftiToVolume,
  readNifti,
  writeNifti,
} from "./nifti.js";
export { DEFAULT_TOLERANCES, type DicomWarning, type Tolerances } from "./plan.js";
export {
  type NativeSlicesArgs,
  readNativeSlicesKernel,
} from "./read-native-slices.js";
export { type PatientRead, readDiscoveredPatient, readPatient } from "./read-patient.js";
export {
  type FileDigest,
  type ReadSeriesOptions,
  readSeries,
  type SeriesMeta,
  type SeriesRead,
} from "./read-series.js";
export { rankSeries, type SeriesCandidate } from "./series.js";
export { PLAUSIBLE_RANGES } from "./slice-values.js";
export {
  csvLine,
  readHeader,
  SUMMARY_COLUMNS,
  type SummaryRow,
  summarizeFiles,
} from "./summarize.js";
