/**
 * @lungflow/classifier: the cancer classifier on top of the GMCAE encoder: 3D spatial pyramid
 * pooling, encoder transfer, training, prediction and the metrics used to judge it.
 *
 * ```ts
 * import { rocAuc } from "@lungflow/classifier";
 * rocAuc([0, 1, 1, 0], [0.1, 0.8, 0.6, 0.3]); // 1
 * ```
 */

export { ChannelSelect, type ChannelSelectArgs } from "./channel-select.js";
export { classifierFromGmcae, loadClassifier, resolveCheckpoint } from "./checkpoints.js";
export type { ClassifierRunConfig, ClassifierTrainConfig } from "./config.js";
export {
  DEFAULT_CLASSIFIER_TRAIN,
  parseClassifierRunConfig,
  resolveClassWeight,
} from "./config.js";
export { elementsOf } from "./elements-of.js";
export { encoderId } from "./encoder-id.js";
export type { ClassifierErrorCode } from "./errors.js";
export { ClassifierError } from "./errors.js";
export type { FeatureStandardizationArgs } from "./feature-standardization.js";
export { FeatureStandardization, fitFeatureStandardization } from "./feature-standardization.js";
export { featureSymmetries } from "./feature-symmetries.js";
export { concatChannels, densityMap, densityPools, lungInput } from "./lung-input.js";
export * from "./metrics.js";
export type { ClassifierHeadConfig } from "./model.js";
export {
  buildClassifier,
  buildFeatureHead,
  buildPooledHead,
  chainLayers,
  classifierEncoder,
  DEFAULT_HEAD,
  densityFeatureId,
  ENCODER_PREFIX,
  encoderStride,
  KDSB17_HEAD,
  pooledFeatureId,
  poolsFirst,
} from "./model.js";
export { SeededDropout } from "./seeded-dropout.js";
export type { SpatialPyramidPooling3DArgs, SppPooling } from "./spp.js";
export { SpatialPyramidPooling3D, spatialPyramidPool3d, sppBin, sppOutputSize } from "./spp.js";
export type { Evaluation, Prediction } from "./submission.js";
export { evaluatePredictions, parseSubmissionCsv, writeSubmission } from "./submission.js";
export {
  type EncoderGeometry,
  type FeatureMap,
  type TiledEncodeOptions,
  TiledEncoder,
} from "./tiled-encoder.js";
export type {
  ClassifierTrainOptions,
  EpochRecord,
  LabelledVolume,
  TrainResult,
  VolumeSource,
} from "./train.js";
export { clipByGlobalNorm, predictSource, readEpochs, trainClassifier } from "./train.js";
