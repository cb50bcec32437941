/**
 * @lungflow/patch-store: the Zarr v3 store of preprocessed lung volumes, with atomic
 * incremental writes, labels, seeded stratified splits, cached patch reads and `verify`.
 *
 * ```ts
 * import { openStore } from "@lungflow/patch-store";
 * const store = await openStore("lungs.zarr");
 * for (const id of await store.listPatients()) {
 *   const patch = await store.readPatch(id, [10, 20, 30], [32, 32, 32]); // Int16Array HU
 * }
 * ```
 */
export { ChunkCache } from "./chunk-cache.js";
export { crc32c } from "./crc32c.js";
export {
  ChunkDecodeError,
  type LabelProblem,
  LabelsError,
  StoreError,
  type StoreErrorCode,
} from "./errors.js";
export type { FeatureArray, FeatureAttrs, FeatureShape } from "./features/feature-meta.js";
export { isValidEncoderId } from "./features/feature-paths.js";
export type { FeatureSetSummary, PatientFeatureSet } from "./features/list-features.js";
export type { FeatureVerifyCounts } from "./features/verify-features.js";
export type { WriteFeaturesOptions } from "./features/write-features.js";
export { parseLabelsCsv, readIdCancerCsv } from "./labels.js";
export type { LockInfo } from "./lock.js";
export {
  type ClaimInfo,
  type ClaimOptions,
  isStaleClaim,
  type PatientClaim,
} from "./patient-claim.js";
// Patch samplers (patch-streaming issue).
export * from "./samplers/index.js";
export {
  canonicalJson,
  isValidPatientId,
  type Label,
  type PatientAttrs,
  type PatientSource,
  type PreprocessingParams,
  paramsDiff,
  type RootAttrs,
  SCHEMA_VERSION,
  type Split,
} from "./schema.js";
export { stratifiedSplit } from "./split.js";
export type { ImportLabelsResult } from "./store/labels-split.js";
export { type OpenStoreOptions, openStore } from "./store/open-store.js";
export type { ArrayName } from "./store/read-chunk.js";
export type { ReadPatchOptions } from "./store/read-patch.js";
export { PatchStore } from "./store.js";
export type { VerifyProblem, VerifyReport } from "./verify.js";
export type { WriteOptions } from "./write-patient.js";
export {
  setZstdBackend,
  type ZstdBackendInfo,
  type ZstdBackendName,
  zstdBackend,
} from "./zstd-codec.js";
