/**
 * Patch streaming: samplers -> Piscina workers (cut, 48-symmetry augmentation, HU offset,
 * normalisation) -> batches -> a bounded pull-driven queue -> tf.data.
 */

export {
  type AugmentOptions,
  augmentedShape,
  drawParams,
  type PatchTransform,
  replayTransforms,
  resolveAugment,
} from "./augment.js";
export {
  type DatasetOptions,
  type PatchDatasetOptions,
  patchDataset,
  type StreamDataset,
  volumeDataset,
} from "./dataset.js";
export { PatchStreamError, type PatchStreamErrorCode } from "./errors.js";
export {
  defaultKernel,
  type PatchBatch,
  type PatchKernel,
  PatchStream,
  type PatchStreamOptions,
  patchBatches,
} from "./patch-stream.js";
export { type PatientSelection, resolvePatients } from "./patients.js";
export { type BridgeStats, type PullBridgeOptions, pullBridge } from "./pull-bridge.js";
export { ShuffleBuffer } from "./shuffle-buffer.js";
export {
  type MemoryPatient,
  type MemorySource,
  memorySource,
  type PatchSource,
  type PatientInfo,
} from "./source.js";
export {
  type VolumeItem,
  VolumeStream,
  type VolumeStreamOptions,
  volumeBatches,
} from "./volume-stream.js";
