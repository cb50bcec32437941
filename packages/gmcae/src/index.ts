/**
 * @lungflow/gmcae: kdsb17's Gaussian Mixture Convolutional AutoEncoder in TensorFlow.js:
 * the model (configurable levels, filters, kernel, patch size, m, batch norm), its
 * Gaussian-mixture negative log-likelihood (a float32-stable logsumexp), a custom training
 * loop (Adam, clip by global norm, CSV logs, best/last checkpoints, early stopping, NaN stop,
 * exact resume) and kdsb17's reconstruction with a PNG mosaic.
 *
 * ```ts
 * import { initTf } from "@lungflow/tf-runtime";
 * import { trainGmcae, loadGmcae, writeMosaic } from "@lungflow/gmcae";
 * await initTf();
 * const r = await trainGmcae({
 *   outDir: "runs/tiny",
 *   config: { model: { patchSize: 16, filters: [4, 8], m: 2 }, train: { epochs: 3, stepsPerEpoch: 20 } },
 *   data: ({ seed }) => patchBatches(seed),   // yields { xs: [B,16,16,16,1] in [-1, 1] }
 * });
 * const best = await loadGmcae("runs/tiny/best");
 * await writeMosaic(best, xs, "mosaic.png");
 * ```
 */

export type { TrainState } from "./checkpoint.js";
export {
  DEFAULT_GMCAE_CONFIG,
  DEFAULT_TRAIN_CONFIG,
  type GmcaeConfig,
  gmcaeConfig,
  parseRunConfig,
  type RunConfig,
  type TrainConfig,
  trainConfig,
} from "./config.js";
export type { Batch, DataInput, EpochContext } from "./data-source.js";
export { GmcaeError, type GmcaeErrorCode } from "./errors.js";
export { BatchNorm3D, type BatchNorm3DArgs, LogSoftmax, ShiftedELU } from "./layers.js";
export { type GmmNllOptions, gmmNll, gmmNllPerPatch } from "./loss.js";
export {
  buildGmcae,
  encoderOutputLayer,
  type Gmcae,
  loadGmcae,
  saveGmcae,
  wrapGmcae,
} from "./model.js";
export { type MosaicOptions, mosaicPng, reconstruct, writeMosaic } from "./reconstruct.js";
export { RunRng } from "./rng.js";
export {
  type BatchEvent,
  type EpochEvent,
  type TrainGmcaeOptions,
  type TrainResult,
  type TrainStatus,
  trainGmcae,
} from "./train.js";
