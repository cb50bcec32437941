/**
 * The ingest surface, also published alone as `@lungflow/pipeline/ingest`: it loads the
 * store, RxJS and Piscina, not the training stack (tfjs), BullMQ or the DICOMweb client
 * (those load when a queue or DICOMweb root is used). `queueWorker` (BullMQ) is exported
 * by the package root only.
 */
export { DicomWebError, type DicomWebErrorCode } from "./dicomweb/errors.js";
export type { DicomWebIdFrom, DicomWebQuery } from "./dicomweb/list-patients.js";
export {
  IngestError,
  type IngestErrorCode,
  type SerializedError,
  serializeError,
} from "./errors.js";
export type { IngestEvent, IngestSummary } from "./events.js";
export { type IngestOptions, ingest } from "./ingest.js";
export { type MaskMode, preprocessingParams } from "./params.js";
export { listPatientFolders, type PatientFolder, patientFolders } from "./patient-folders.js";
export { defaultWorkers, ingestWorkerUrl } from "./pool.js";
export { type SourceDigest, sourceHash } from "./source-hash.js";
export type { StageTimings } from "./task.js";
