import { loadModel, saveModel, tf } from "@lungflow/tf-runtime";
import { type GmcaeConfig, gmcaeConfig } from "./config.js";
import { GmcaeError } from "./errors.js";
import { BatchNorm3D, LogSoftmax, ShiftedELU } from "./layers.js";

/** A built (or loaded) GMCAE. */
export interface Gmcae {
  /** input [B, D, D, D, 1] -> mixture parameters [B, m + m + D^3 * m] (see `gmmNll`). */
  model: tf.LayersModel;
  /** input -> last encoder feature map [B, D/2^L, D/2^L, D/2^L, filters[L-1]] (shares the layers). */
  encoder: tf.LayersModel;
  config: GmcaeConfig;
}

/** Name of the layer whose output is the encoded feature map. */
export function encoderOutputLayer(config: GmcaeConfig): string {
  return `enc_${config.filters.length - 1}_relu_b`;
}

/**
 * Builds the GMCAE of kdsb17 (ARCHITECTURE.md "Models"). Per encoder level i a k^3 conv
 * (stride 1) `enc_i_conv_a` and a k^3 conv (stride 2) `enc_i_conv_b`, each followed by
 * optional batch norm (`enc_i_bn_a|b`) and ReLU (`enc_i_relu_a|b`); the decoder mirrors
 * with transposed convs (`dec_i_deconv`, `dec_i_conv`). Heads: log-priors `prior_conv ->
 * prior_flatten -> prior_dense (ReLU) -> prior_logits -> prior_logsoftmax`; variances
 * `var_conv -> ... -> var_pre -> var_shifted_elu` (ELU + 1); means `means_conv` (m filters,
 * linear) flattened voxel-major. Output `gmm_params` concatenates [log-priors, variances,
 * means]. Every initialiser is seeded from `config.seed`: same config, same weights.
 */
export function buildGmcae(partial: Partial<GmcaeConfig> = {}): Gmcae {
  const config = gmcaeConfig(partial);
  const { patchSize: d, filters, kernelSize: k, m, batchNorm } = config;
  let seedCounter = 0;
  const init = () => tf.initializers.glorotUniform({ seed: config.seed * 1000 + seedCounter++ });
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor) =>
    layer.apply(x) as tf.SymbolicTensor;
  const convBlock = (
    x: tf.SymbolicTensor,
    prefix: string,
    suffix: string,
    nFilters: number,
    strides: number,
    transpose: boolean,
  ) => {
    const args = {
      filters: nFilters,
      kernelSize: k,
      strides,
      padding: "same" as const,
      kernelInitializer: init(),
      useBias: !batchNorm,
      name: transpose ? `${prefix}_deconv` : `${prefix}_conv${suffix}`,
    };
    x = apply(transpose ? tf.layers.conv3dTranspose(args) : tf.layers.conv3d(args), x);
    if (batchNorm) x = apply(new BatchNorm3D({ name: `${prefix}_bn${suffix}` }), x);
    return apply(tf.layers.reLU({ name: `${prefix}_relu${suffix}` }), x);
  };

  const input = tf.input({ shape: [d, d, d, 1], name: "patch" });
  let x = input;
  filters.forEach((f, i) => {
    x = convBlock(x, `enc_${i}`, "_a", f, 1, false);
    x = convBlock(x, `enc_${i}`, "_b", f, 2, false);
  });
  const encoded = x;
  for (let i = filters.length - 1; i >= 0; i--) {
    x = convBlock(x, `dec_${i}`, "_a", filters[i], 2, true);
    x = convBlock(x, `dec_${i}`, "_b", filters[i], 1, false);
  }
  const means = apply(
    tf.layers.conv3d({
      filters: m,
      kernelSize: k,
      padding: "same",
      kernelInitializer: init(),
      name: "means_conv",
    }),
    x,
  );
  const meansFlat = apply(tf.layers.flatten({ name: "means_flatten" }), means);
  const head = (prefix: string) => {
    let h = apply(
      tf.layers.conv3d({
        filters: config.headFilters,
        kernelSize: k,
        padding: "same",
        activation: "relu",
        kernelInitializer: init(),
        name: `${prefix}_conv`,
      }),
      encoded,
    );
    h = apply(tf.layers.flatten({ name: `${prefix}_flatten` }), h);
    h = apply(
      tf.layers.dense({
        units: config.headDense,
        activation: "relu",
        kernelInitializer: init(),
        name: `${prefix}_dense`,
      }),
      h,
    );
    return h;
  };
  const logits = apply(
    tf.layers.dense({ units: m, kernelInitializer: init(), name: "prior_logits" }),
    head("prior"),
  );
  const logPriors = apply(new LogSoftmax({ name: "prior_logsoftmax" }), logits);
  const varPre = apply(
    tf.layers.dense({ units: m, kernelInitializer: init(), name: "var_pre" }),
    head("var"),
  );
  const variances = apply(new ShiftedELU({ name: "var_shifted_elu" }), varPre);
  const out = tf.layers
    .concatenate({ axis: -1, name: "gmm_params" })
    .apply([logPriors, variances, meansFlat]) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: out, name: "gmcae" });
  model.setUserDefinedMetadata({ gmcae: config });
  const encoder = tf.model({ inputs: input, outputs: encoded, name: "gmcae_encoder" });
  return { model, encoder, config };
}

/** Rebuilds the `Gmcae` view (encoder, config) of a loaded model. */
export function wrapGmcae(model: tf.LayersModel, source = "model"): Gmcae {
  const meta = model.getUserDefinedMetadata() as { gmcae?: unknown } | undefined;
  if (!meta?.gmcae) {
    throw new GmcaeError(
      "BAD_MODEL",
      `${source} is not a GMCAE (no "gmcae" config in its metadata)`,
      { source },
    );
  }
  const config = gmcaeConfig(meta.gmcae as Partial<GmcaeConfig>, `${source} metadata`);
  let encodedLayer: tf.layers.Layer;
  try {
    encodedLayer = model.getLayer(encoderOutputLayer(config));
  } catch (err) {
    throw new GmcaeError(
      "BAD_MODEL",
      `${source} has no layer ${encoderOutputLayer(config)}`,
      { source },
      { cause: err },
    );
  }
  const encoder = tf.model({
    inputs: model.inputs,
    outputs: encodedLayer.output as tf.SymbolicTensor,
    name: "gmcae_encoder",
  });
  return { model, encoder, config };
}

/** Saves a GMCAE to `dir` (model.json with the config in its metadata, weights.bin). */
export async function saveGmcae(gmcae: Gmcae, dir: string): Promise<void> {
  gmcae.model.setUserDefinedMetadata({ gmcae: gmcae.config });
  await saveModel(gmcae.model, dir);
}

/** Loads a GMCAE saved by `saveGmcae` (or a checkpoint directory `runs/NAME/best`). */
export async function loadGmcae(dir: string): Promise<Gmcae> {
  let model: tf.LayersModel;
  try {
    model = await loadModel(dir);
  } catch (err) {
    throw new GmcaeError(
      "BAD_CHECKPOINT",
      `cannot load a GMCAE from ${dir}: ${(err as Error).message}`,
      { dir },
      { cause: err },
    );
  }
  return wrapGmcae(model, dir);
}
