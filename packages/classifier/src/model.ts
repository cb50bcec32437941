import { tf } from "@lungflow/tf-runtime";
import { ChannelSelect } from "./channel-select.js";
import { ClassifierError } from "./errors.js";
import { FeatureStandardization } from "./feature-standardization.js";
import { densityPools } from "./lung-input.js";
import { SeededDropout } from "./seeded-dropout.js";
import { SpatialPyramidPooling3D, type SppPooling } from "./spp.js";

/** Shape of the classifier (its input, density channel and head); every field has a default. */
export interface ClassifierHeadConfig {
  /**
   * Look only inside the lung region (lung-segmentation's `lungRegion` of the stored mask:
   * lungs with their vessels and nodules, juxtapleural ones included): voxels outside it read
   * as air (default true). kdsb17 fed the whole crop box, ribs and heart included.
   */
  region: boolean;
  /**
   * Window (voxels) of the density channel appended to the encoder's features: per feature
   * voxel, the highest mean of the (masked, normalised) input over a `density`^3 cube near
   * it (0: no density channel). Default 8: a nodule of 12 mm fills such a cube, a vessel of
   * 5 mm or a nodule under 8 mm does not.
   */
  density: number;
  /**
   * What the head reads: "all" (the encoder's features and the density channel) or
   * "density" (the density channel alone; default: see the README on why).
   */
  channels: "all" | "density";
  /**
   * Filters of 3x3x3 'same' convs (ReLU) applied to the encoder's features before pooling
   * (default []: kdsb17's head pools the encoder output directly). They let the head learn a
   * detector whose maximum over the lung is specific to the patient, instead of pooling
   * feature maps whose maxima are set by structures every chest has.
   */
  conv: number[];
  /**
   * Standardise each feature channel with the mean and standard deviation of the training
   * features (a `FeatureStandardization` layer, fitted by `trainClassifier` before the first
   * epoch).
   */
  standardize: boolean;
  /**
   * Filters of a linear conv (`detectorKernel` wide) after `conv` (default 0: none). With 1 filter and `bins`
   * [1] the head is a multiple-instance detector: a score per feature voxel, pooled over the
   * lung, so "one voxel looks like a nodule" can be said, which per-channel maxima cannot.
   */
  detector: number;
  /** Kernel size of the detector conv (default 3: a nodule spans 2-3 feature voxels). */
  detectorKernel: number;
  /** SPP bins per axis per level (default [1, 2, 4]). */
  bins: number[];
  /** Reduction of each SPP bin: "max" (kdsb17), "mean" or "lse" (log-mean-exp). */
  pooling: SppPooling;
  /** Sharpness of "lse" pooling (default 1). */
  sharpness: number;
  /** Units of the dense layers after SPP (default [1024, 1024]). */
  dense: number[];
  /** Dropout rate after each dense layer (default 0.5). */
  dropout: number;
  /** Keep the transferred encoder weights fixed (default false: fine-tune). */
  freezeEncoder: boolean;
  /** Seed of the head's weight initialisers. */
  seed: number;
}

export const DEFAULT_HEAD: ClassifierHeadConfig = {
  region: true,
  density: 8,
  channels: "density",
  standardize: true,
  conv: [4],
  detector: 0,
  detectorKernel: 3,
  bins: [1],
  pooling: "max",
  sharpness: 1,
  dense: [],
  dropout: 0,
  freezeEncoder: false,
  seed: 1,
};

/**
 * kdsb17's classifier as it was: the whole crop box, no density channel, SPP max over 1, 2,
 * 4 bins of the encoder's features, dense 1024 x 2 with dropout 0.5 (spread it over a
 * config: `{ ...KDSB17_HEAD, dense: [16] }`).
 */
export const KDSB17_HEAD: ClassifierHeadConfig = {
  ...DEFAULT_HEAD,
  region: false,
  density: 0,
  channels: "all",
  standardize: false,
  conv: [],
  bins: [1, 2, 4],
  dense: [1024, 1024],
  dropout: 0.5,
};

/** Prefix of the transferred encoder layers inside the classifier. */
export const ENCODER_PREFIX = "encoder/";

/**
 * Builds the classifier on top of a trained encoder: the encoder's layers are re-created
 * with a variable-size input `[null, null, null, C]` (whole cropped lungs of any size), their
 * weights copied one by one, then 3D spatial pyramid pooling, dense layers with dropout,
 * and one sigmoid unit: the probability of cancer within a year.
 *
 * The encoder must be a chain (each layer feeds the next), as the GMCAE's is.
 */
export function buildClassifier(
  encoder: tf.LayersModel,
  head: Partial<ClassifierHeadConfig> = {},
): tf.LayersModel {
  const cfg = { ...DEFAULT_HEAD, ...head };
  validateHead(cfg);
  const inShape = encoder.inputs[0].shape;
  const channels = inShape[inShape.length - 1];
  if (inShape.length !== 5 || channels == null) {
    throw new ClassifierError(
      "ENCODER_NOT_SEQUENTIAL",
      `encoder input must be [batch, D, H, W, C], got [${inShape.join(", ")}]`,
    );
  }
  const input = tf.input({ shape: [null, null, null, channels], name: "volume" });
  let x: tf.SymbolicTensor = input;
  for (const layer of chainLayers(encoder)) {
    const clone = cloneLayer(layer, {
      name: ENCODER_PREFIX + layer.name,
      trainable: !cfg.freezeEncoder,
    });
    x = clone.apply(x) as tf.SymbolicTensor;
    clone.setWeights(layer.getWeights());
    clone.trainable = !cfg.freezeEncoder;
  }
  if (cfg.density > 0) {
    const p = densityPools(encoderStride(encoder), cfg.density);
    let d = tf.layers
      .averagePooling3d({
        poolSize: p.avg.pool,
        strides: p.avg.strides,
        padding: "same",
        name: "density_avg",
      })
      .apply(input) as tf.SymbolicTensor;
    if (p.max)
      d = tf.layers
        .maxPooling3d({
          poolSize: p.max.pool,
          strides: p.max.strides,
          padding: "same",
          name: "density_max",
        })
        .apply(d) as tf.SymbolicTensor;
    x = tf.layers
      .concatenate({ axis: -1, name: "features_density" })
      .apply([x, d]) as tf.SymbolicTensor;
  }
  return tf.model({ inputs: input, outputs: applyHead(x, cfg), name: "lungflow_classifier" });
}

/**
 * The head alone, on encoder features `[null, null, null, channels]` (stored features, see
 * `lungflow features`): the same layers, names and initial weights as the head of
 * {@link buildClassifier}, so weights move between the two by layer name.
 */
export function buildFeatureHead(
  channels: number,
  head: Partial<ClassifierHeadConfig> = {},
): tf.LayersModel {
  const cfg = { ...DEFAULT_HEAD, ...head };
  validateHead(cfg);
  if (!Number.isInteger(channels) || channels < 1)
    throw new ClassifierError(
      "BAD_CONFIG",
      `feature channels must be a positive integer, got ${channels}`,
    );
  const input = tf.input({ shape: [null, null, null, channels], name: "features" });
  return tf.model({ inputs: input, outputs: applyHead(input, cfg), name: "lungflow_feature_head" });
}

/**
 * True when nothing trainable comes before the head's pooling (no standardisation, convs or
 * detector): its pooled vectors are then a fixed function of the stored features and can be
 * computed once (`pooledFeatureId`, `buildPooledHead`).
 */
export function poolsFirst(head: Partial<ClassifierHeadConfig> = {}): boolean {
  const cfg = { ...DEFAULT_HEAD, ...head };
  return !cfg.standardize && cfg.conv.length === 0 && cfg.detector === 0 && cfg.channels === "all";
}

/**
 * The stored-features id of pooled vectors: the SPP of encoder `encoderId`'s feature maps
 * with the head's bins, pooling and sharpness, e.g. `enc-0123456789abcdef.spp-max-1-2-4`.
 */
export function pooledFeatureId(
  encoderId: string,
  head: Partial<ClassifierHeadConfig> = {},
): string {
  const cfg = { ...DEFAULT_HEAD, ...head };
  const kind = cfg.pooling === "lse" ? `lse${cfg.sharpness}` : cfg.pooling;
  return `${encoderId}.spp-${kind}-${cfg.bins.join("-")}`;
}

/**
 * The stored-features id of the density channel alone (the last channel of encoder
 * `encoderId`'s maps with a density channel), e.g. `enc-0123456789abcdef.density`: what a head
 * with `channels: "density"` reads, a 1/(C+1) of the maps.
 */
export function densityFeatureId(encoderId: string): string {
  return `${encoderId}.density`;
}

/**
 * The head of {@link buildFeatureHead} without its pooling, on pooled vectors stored as
 * `[1, 1, 1, P]` feature maps (`pooledFeatureId`): the same dense layers, names and initial
 * weights, so its predictions on pooled vectors equal the feature head's on the maps, and
 * weights move between the two by layer name. Only for heads that {@link poolsFirst}.
 */
export function buildPooledHead(
  pooledSize: number,
  head: Partial<ClassifierHeadConfig> = {},
): tf.LayersModel {
  const cfg = { ...DEFAULT_HEAD, ...head };
  validateHead(cfg);
  if (!poolsFirst(cfg))
    throw new ClassifierError(
      "BAD_CONFIG",
      "a head with standardisation, convs or a detector before its pooling cannot train on pooled vectors",
    );
  const input = tf.input({ shape: [1, 1, 1, pooledSize], name: "pooled" });
  const flat = tf.layers.flatten({ name: "pooled_flatten" }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: applyDense(flat, cfg), name: "lungflow_pooled_head" });
}

/** Head layers: channel choice, optional convs, SPP, dense + dropout, one sigmoid unit. */
function applyHead(x: tf.SymbolicTensor, cfg: ClassifierHeadConfig): tf.SymbolicTensor {
  if (cfg.channels === "density")
    x = new ChannelSelect({ start: -1, size: 1, name: "head_density" }).apply(
      x,
    ) as tf.SymbolicTensor;
  if (cfg.standardize)
    x = new FeatureStandardization({ name: "head_standardize" }).apply(x) as tf.SymbolicTensor;
  cfg.conv.forEach((filters, i) => {
    x = tf.layers
      .conv3d({
        filters,
        kernelSize: 3,
        padding: "same",
        activation: "relu",
        name: `head_conv_${i}`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 500 + i }),
      })
      .apply(x) as tf.SymbolicTensor;
  });
  if (cfg.detector > 0)
    x = tf.layers
      .conv3d({
        filters: cfg.detector,
        kernelSize: cfg.detectorKernel,
        padding: "same",
        name: "head_detector",
        kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 700 }),
      })
      .apply(x) as tf.SymbolicTensor;
  x = new SpatialPyramidPooling3D({
    bins: cfg.bins,
    pooling: cfg.pooling,
    sharpness: cfg.sharpness,
    name: "spp",
  }).apply(x) as tf.SymbolicTensor;
  return applyDense(x, cfg);
}

/** The head's trainable part after pooling: dense + dropout layers and the sigmoid unit. */
function applyDense(x: tf.SymbolicTensor, cfg: ClassifierHeadConfig): tf.SymbolicTensor {
  cfg.dense.forEach((units, i) => {
    x = tf.layers
      .dense({
        units,
        activation: "relu",
        name: `dense_${i}`,
        kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + i }),
      })
      .apply(x) as tf.SymbolicTensor;
    if (cfg.dropout > 0)
      x = new SeededDropout({
        rate: cfg.dropout,
        seed: cfg.seed + 100 + i,
        name: `dropout_${i}`,
      }).apply(x) as tf.SymbolicTensor;
  });
  const out = tf.layers
    .dense({
      units: 1,
      activation: "sigmoid",
      name: "cancer",
      kernelInitializer: tf.initializers.glorotUniform({ seed: cfg.seed + 999 }),
    })
    .apply(x) as tf.SymbolicTensor;
  return out;
}

/** A new, unbuilt layer of the same class and config (the class must be registered for serialization). */
function cloneLayer(
  layer: tf.layers.Layer,
  overrides: tf.serialization.ConfigDict,
): tf.layers.Layer {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[layer.getClassName()];
  if (!entry) {
    throw new ClassifierError(
      "ENCODER_NOT_SEQUENTIAL",
      `encoder layer class ${layer.getClassName()} is not registered for serialization`,
      { layer: layer.name },
    );
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, { ...layer.getConfig(), ...overrides }) as tf.layers.Layer;
}

/** The encoder's layers in order (without its input layer), checking it is a simple chain. */
export function chainLayers(encoder: tf.LayersModel): tf.layers.Layer[] {
  const layers = encoder.layers.filter((l) => l.getClassName() !== "InputLayer");
  let prev = encoder.inputs[0];
  for (const layer of layers) {
    const inbound = layer.inboundNodes.flatMap((n) => n.inputTensors);
    if (inbound.length !== 1 || inbound[0].id !== prev.id) {
      throw new ClassifierError(
        "ENCODER_NOT_SEQUENTIAL",
        `encoder layer ${layer.name} does not take the previous layer's output as its only input`,
        {
          layer: layer.name,
        },
      );
    }
    prev = layer.output as tf.SymbolicTensor;
  }
  if (prev.id !== encoder.outputs[0].id) {
    throw new ClassifierError(
      "ENCODER_NOT_SEQUENTIAL",
      "encoder output is not the last layer of its chain",
    );
  }
  return layers;
}

/** Product of the encoder's conv strides per axis (its feature grid: ceil(d / stride)). */
export function encoderStride(encoder: tf.LayersModel): [number, number, number] {
  const s: [number, number, number] = [1, 1, 1];
  for (const layer of chainLayers(encoder)) {
    const st = (layer.getConfig() as { strides?: number | number[] }).strides;
    if (st === undefined) continue;
    const v = Array.isArray(st) ? st : [st, st, st];
    for (let i = 0; i < 3; i++) s[i] *= v[i];
  }
  return s;
}

/** The encoder part of a built classifier as its own model (input -> last encoder layer). */
export function classifierEncoder(model: tf.LayersModel): tf.LayersModel {
  const enc = model.layers.filter((l) => l.name.startsWith(ENCODER_PREFIX));
  if (enc.length === 0)
    throw new ClassifierError("ENCODER_NOT_SEQUENTIAL", "model has no transferred encoder layers");
  return tf.model({
    inputs: model.inputs,
    outputs: enc[enc.length - 1].output as tf.SymbolicTensor,
  });
}

function validateHead(c: ClassifierHeadConfig): void {
  const bad = (msg: string) =>
    new ClassifierError("BAD_CONFIG", `classifier config: ${msg}`, { config: c });
  if (
    !Array.isArray(c.bins) ||
    c.bins.length === 0 ||
    c.bins.some((b) => !Number.isInteger(b) || b < 1)
  )
    throw bad("bins must be a non-empty list of positive integers");
  if (!Array.isArray(c.conv) || c.conv.some((u) => !Number.isInteger(u) || u < 1))
    throw bad("conv must be a list of positive integers");
  if (!Array.isArray(c.dense) || c.dense.some((u) => !Number.isInteger(u) || u < 1))
    throw bad("dense must be a list of positive integers");
  if (!(c.dropout >= 0 && c.dropout < 1)) throw bad("dropout must be in [0, 1)");
  if (!Number.isInteger(c.detector) || c.detector < 0)
    throw bad("detector must be a non-negative integer");
  if (!Number.isInteger(c.detectorKernel) || c.detectorKernel < 1 || c.detectorKernel % 2 === 0)
    throw bad("detectorKernel must be a positive odd integer");
  if (!["max", "mean", "lse"].includes(c.pooling))
    throw bad('pooling must be "max", "mean" or "lse"');
  if (!(c.sharpness > 0 && Number.isFinite(c.sharpness))) throw bad("sharpness must be positive");
  if (!Number.isInteger(c.seed)) throw bad("seed must be an integer");
  if (typeof c.region !== "boolean") throw bad("region must be true or false");
  if (!Number.isInteger(c.density) || c.density < 0)
    throw bad("density must be a non-negative integer (0: no density channel)");
  if (c.channels !== "all" && c.channels !== "density")
    throw bad('channels must be "all" or "density"');
  if (c.channels === "density" && c.density === 0)
    throw bad('channels "density" needs a density channel (density > 0)');
}
