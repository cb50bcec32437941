import assert from "node:assert/strict";
import { test } from "node:test";
import { tf } from "@lungflow/tf-runtime";
import {
  buildClassifier,
  ClassifierError,
  chainLayers,
  classifierEncoder,
  KDSB17_HEAD,
  sppOutputSize,
} from "../src/index.ts";

await tf.setBackend("cpu");

/** A small GMCAE-like encoder: per level a 3x3x3 conv (stride 1) and a 3x3x3 conv (stride 2). */
function tinyEncoder(size: number, filters: number[], seed = 3): tf.LayersModel {
  const input = tf.input({ shape: [size, size, size, 1] });
  let x: tf.SymbolicTensor = input;
  filters.forEach((f, i) => {
    for (const [s, tag] of [
      [1, "a"],
      [2, "b"],
    ] as const) {
      x = tf.layers
        .conv3d({
          filters: f,
          kernelSize: 3,
          strides: s,
          padding: "same",
          activation: "relu",
          name: `enc_${i}_conv_${tag}`,
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i * 2 + s }),
          biasInitializer: tf.initializers.randomNormal({ seed: seed + 50 + i, stddev: 0.1 }),
        })
        .apply(x) as tf.SymbolicTensor;
    }
  });
  return tf.model({ inputs: input, outputs: x });
}

test("transfer copies every encoder weight and the encoder part computes the same features", () => {
  const enc = tinyEncoder(16, [2, 4]);
  const model = buildClassifier(enc, { ...KDSB17_HEAD, dense: [8, 8], seed: 5 });
  const part = classifierEncoder(model);
  const x = tf.randomNormal([1, 16, 16, 16, 1], 0, 1, "float32", 11) as tf.Tensor5D;
  const a = enc.predict(x) as tf.Tensor;
  const b = part.predict(x) as tf.Tensor;
  assert.deepEqual(a.shape, b.shape);
  const diff = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
  assert.equal(diff, 0);
  assert.ok(tf.max(a).dataSync()[0] > 0, "features are not all zero");
  // the classifier takes volumes of any size, including odd ones
  for (const s of [
    [1, 23, 17, 30, 1],
    [1, 9, 40, 12, 1],
  ] as const) {
    const p = model.predict(tf.randomNormal([...s], 0, 1, "float32", 2)) as tf.Tensor;
    assert.deepEqual(p.shape, [1, 1]);
    const v = p.dataSync()[0];
    assert.ok(v > 0 && v < 1);
  }
  // SPP output feeds dense_0 with channels * (1 + 8 + 64) features
  assert.deepEqual(model.getLayer("dense_0").getWeights()[0].shape, [
    sppOutputSize(4, [1, 2, 4]),
    8,
  ]);
});

test("weights are copies: training the classifier does not change the source encoder", () => {
  const enc = tinyEncoder(8, [2]);
  const before = enc.getWeights().map((w) => w.dataSync().slice());
  const model = buildClassifier(enc, { ...KDSB17_HEAD, dense: [4], dropout: 0 });
  model.compile({ optimizer: tf.train.sgd(0.5), loss: "binaryCrossentropy" });
  const x = tf.randomNormal([2, 8, 8, 8, 1], 0, 1, "float32", 4);
  const y = tf.tensor2d([[1], [0]]);
  return model.fit(x, y, { epochs: 2, verbose: 0 }).then(() => {
    enc.getWeights().forEach((w, i) => {
      assert.deepEqual(w.dataSync(), before[i]);
    });
    const moved = model.getLayer("encoder/enc_0_conv_a").getWeights()[0].dataSync();
    assert.notDeepEqual(
      Array.from(moved),
      Array.from(before[0]),
      "fine-tuning moves the transferred weights",
    );
  });
});

test("a frozen encoder stays fixed while the head trains", async () => {
  const enc = tinyEncoder(8, [2]);
  const model = buildClassifier(enc, {
    ...KDSB17_HEAD,
    dense: [4],
    dropout: 0,
    freezeEncoder: true,
  });
  const w0 = model.getLayer("encoder/enc_0_conv_a").getWeights()[0].dataSync().slice();
  const h0 = model.getLayer("dense_0").getWeights()[0].dataSync().slice();
  model.compile({ optimizer: tf.train.sgd(0.5), loss: "binaryCrossentropy" });
  await model.fit(tf.randomNormal([2, 8, 8, 8, 1], 0, 1, "float32", 4), tf.tensor2d([[1], [0]]), {
    epochs: 2,
    verbose: 0,
  });
  assert.deepEqual(model.getLayer("encoder/enc_0_conv_a").getWeights()[0].dataSync(), w0);
  assert.notDeepEqual(
    Array.from(model.getLayer("dense_0").getWeights()[0].dataSync()),
    Array.from(h0),
  );
});

test("bad configs and non-chain encoders are clear errors", () => {
  const enc = tinyEncoder(8, [2]);
  assert.throws(
    () => buildClassifier(enc, { ...KDSB17_HEAD, bins: [] }),
    (e: unknown) => e instanceof ClassifierError && e.code === "BAD_CONFIG",
  );
  assert.throws(() => buildClassifier(enc, { ...KDSB17_HEAD, dropout: 1 }), /dropout/);
  const a = tf.input({ shape: [8, 8, 8, 1] });
  const c1 = tf.layers
    .conv3d({ filters: 2, kernelSize: 3, padding: "same" })
    .apply(a) as tf.SymbolicTensor;
  const c2 = tf.layers
    .conv3d({ filters: 2, kernelSize: 3, padding: "same" })
    .apply(a) as tf.SymbolicTensor;
  const branched = tf.model({
    inputs: a,
    outputs: tf.layers.add().apply([c1, c2]) as tf.SymbolicTensor,
  });
  assert.throws(
    () => chainLayers(branched),
    (e: unknown) => e instanceof ClassifierError && e.code === "ENCODER_NOT_SEQUENTIAL",
  );
});
