import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { loadModel, saveModel, tf } from "@lungflow/tf-runtime";
import { mulberry32 } from "@lungflow/volume";
import {
  buildFeatureHead,
  FeatureStandardization,
  fitFeatureStandardization,
  KDSB17_HEAD,
  trainClassifier,
} from "../src/index.ts";

await tf.setBackend("cpu");

/** Feature maps of varying size with channel offsets 0.5, -2 and spreads 0.1, 3. */
function maps(n: number, seed: number) {
  const r = mulberry32(seed);
  return Array.from({ length: n }, (_, i) => {
    const shape = [2 + (i % 3), 3, 4 + (i % 2), 2] as const;
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let k = 0; k < data.length; k += 2) {
      data[k] = 0.5 + 0.1 * (r() * 2 - 1);
      data[k + 1] = -2 + 3 * (r() * 2 - 1);
    }
    return { data, shape, label: i % 2 };
  });
}

const asSource = (items: ReturnType<typeof maps>) => () =>
  tf.data.generator(function* () {
    for (const m of items)
      yield {
        id: "p",
        xs: tf.tensor5d(m.data, [1, ...m.shape]),
        ys: tf.tensor2d([[m.label]]),
      };
  } as unknown as () => Iterator<tf.TensorContainer>) as tf.data.Dataset<{
    xs: tf.Tensor;
    ys: tf.Tensor;
  }>;

test("fitting sets each channel's mean and std over every voxel of every volume", async () => {
  const items = maps(5, 3);
  const model = buildFeatureHead(2, { ...KDSB17_HEAD, standardize: true, dense: [], bins: [1] });
  const layer = model.getLayer("head_standardize") as FeatureStandardization;
  assert.equal(layer.fitted, false);
  assert.equal(await fitFeatureStandardization(model, asSource(items)()), 1);
  assert.equal(layer.fitted, true);
  // reference statistics in float64
  for (const ch of [0, 1]) {
    const vals = items.flatMap((m) => Array.from(m.data).filter((_, k) => k % 2 === ch));
    const mean = vals.reduce((s, v) => s + v, 0) / vals.length;
    const std = Math.sqrt(vals.reduce((s, v) => s + (v - mean) ** 2, 0) / vals.length);
    const [m, sc] = layer.getWeights().map((w) => w.dataSync()[ch]);
    assert.ok(Math.abs(m - mean) < 1e-4, `channel ${ch} mean ${m} vs ${mean}`);
    assert.ok(Math.abs(1 / sc - std) < 1e-3 * std, `channel ${ch} std ${1 / sc} vs ${std}`);
  }
  // fitted layers are left alone by a second fit (resume, or a model loaded after training)
  assert.equal(await fitFeatureStandardization(model, asSource(items)()), 0);
});

test("the output is (x - mean) * scale and its input gradient matches finite differences", () => {
  const layer = new FeatureStandardization();
  const x0 = Float32Array.from([0.2, -1, 0.7, 3, -0.4, 1.5]);
  const shape = [1, 1, 1, 3, 2] as [number, number, number, number, number];
  layer.apply(tf.tensor5d(x0, shape));
  layer.setStatistics([0.5, -2], [0.1, 3]);
  const y = (layer.apply(tf.tensor5d(x0, shape)) as tf.Tensor).dataSync();
  x0.forEach((v, k) => {
    const want = k % 2 === 0 ? (v - 0.5) / 0.1 : (v + 2) / 3;
    assert.ok(Math.abs(y[k] - want) < 1e-4);
  });
  const w = tf.tensor5d(Float32Array.from([1, -2, 0.5, 3, -1, 2]), shape);
  const f = (t: tf.Tensor) => tf.sum(tf.mul(layer.apply(t) as tf.Tensor, w));
  const g = tf.grad(f)(tf.tensor5d(x0, shape)).dataSync();
  const h = 1e-2;
  for (let i = 0; i < x0.length; i++) {
    const p = Float32Array.from(x0);
    const m = Float32Array.from(x0);
    p[i] += h;
    m[i] -= h;
    const fd =
      (f(tf.tensor5d(p, shape)).dataSync()[0] - f(tf.tensor5d(m, shape)).dataSync()[0]) / (2 * h);
    assert.ok(Math.abs(fd - g[i]) < 1e-2 * Math.max(1, Math.abs(fd)), `${i}: ${g[i]} vs ${fd}`);
  }
});

test("trainClassifier fits the layer before the first step; the model saves and loads by class name", async () => {
  const items = maps(6, 9);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lungflow-std-"));
  const model = buildFeatureHead(2, {
    ...KDSB17_HEAD,
    standardize: true,
    detector: 1,
    bins: [1],
    dense: [],
    dropout: 0,
  });
  await trainClassifier({ model, outDir: dir, epochs: 1, train: asSource(items), batchSize: 3 });
  const layer = model.getLayer("head_standardize") as FeatureStandardization;
  assert.equal(layer.fitted, true);
  assert.ok(Math.abs(layer.getWeights()[0].dataSync()[1] + 2) < 0.5);
  await saveModel(model, path.join(dir, "m"));
  const back = await loadModel(path.join(dir, "m"));
  const l2 = back.getLayer("head_standardize") as FeatureStandardization;
  assert.equal(l2.getClassName(), "FeatureStandardization");
  assert.equal(l2.fitted, true);
  const x = tf.tensor5d(items[0].data, [1, ...items[0].shape]);
  const a = (model.predict(x) as tf.Tensor).dataSync()[0];
  const b = (back.predict(x) as tf.Tensor).dataSync()[0];
  assert.ok(Math.abs(a - b) < 1e-6);
  await fs.rm(dir, { recursive: true, force: true });
});
