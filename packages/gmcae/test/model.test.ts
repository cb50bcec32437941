import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { initTf, loadModel, saveModel, tf } from "@lungflow/tf-runtime";
import { PNG } from "pngjs";
import {
  buildGmcae,
  GmcaeError,
  loadGmcae,
  mosaicPng,
  parseRunConfig,
  reconstruct,
  ShiftedELU,
  saveGmcae,
  writeMosaic,
} from "../src/index.ts";
import { batches, phantomPatches } from "./patches.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gmcae-model-"));
before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const TINY = { patchSize: 16, filters: [4, 8], m: 2, headFilters: 2, headDense: 8 };

test("architecture: shapes, stable layer names, encoder view, seeded weights", () => {
  const g = buildGmcae({ ...TINY, filters: [4, 8, 16], m: 3 });
  assert.deepEqual(g.model.outputs[0].shape, [null, 3 + 3 + 16 ** 3 * 3]);
  assert.deepEqual(g.encoder.outputs[0].shape, [null, 2, 2, 2, 16]);
  const names = g.model.layers.map((l) => l.name);
  for (const n of [
    "enc_0_conv_a",
    "enc_0_relu_a",
    "enc_0_conv_b",
    "enc_2_relu_b",
    "dec_2_deconv",
    "dec_0_conv_b",
    "means_conv",
    "prior_logsoftmax",
    "var_shifted_elu",
    "gmm_params",
  ]) {
    assert.ok(names.includes(n), `layer ${n} missing`);
  }
  assert.equal(g.model.getLayer("enc_1_conv_b").getConfig().strides!.toString(), "2,2,2");
  assert.equal(g.model.getLayer("dec_1_deconv").getClassName(), "Conv3DTranspose");
  // Encoder layers are a chain: input -> conv -> relu -> conv -> relu ...
  assert.deepEqual(
    g.encoder.layers.slice(1).map((l) => l.name),
    [
      "enc_0_conv_a",
      "enc_0_relu_a",
      "enc_0_conv_b",
      "enc_0_relu_b",
      "enc_1_conv_a",
      "enc_1_relu_a",
      "enc_1_conv_b",
      "enc_1_relu_b",
      "enc_2_conv_a",
      "enc_2_relu_a",
      "enc_2_conv_b",
      "enc_2_relu_b",
    ],
  );
  const again = buildGmcae({ ...TINY, filters: [4, 8, 16], m: 3 });
  const w1 = g.model.getWeights().map((w) => Array.from(w.dataSync()));
  const w2 = again.model.getWeights().map((w) => Array.from(w.dataSync()));
  assert.deepEqual(w2, w1);
  const other = buildGmcae({ ...TINY, filters: [4, 8, 16], m: 3, seed: 2 });
  assert.notDeepEqual(Array.from(other.model.getWeights()[0].dataSync()), w1[0]);
  const bn = buildGmcae({ ...TINY, batchNorm: true });
  assert.ok(bn.model.layers.some((l) => l.name === "enc_0_bn_a"));
});

test("outputs: log-priors normalised, variances > 0", () => {
  const g = buildGmcae(TINY);
  const x = tf.randomUniform([2, 16, 16, 16, 1], -1, 1, "float32", 5);
  const y = (g.model.predict(x) as tf.Tensor).arraySync() as number[][];
  for (const row of y) {
    assert.ok(Math.abs(Math.exp(row[0]) + Math.exp(row[1]) - 1) < 1e-5);
    assert.ok(row[2] > 0 && row[3] > 0);
  }
});

test("ShiftedELU equals elu(x)+1 and stays > 0 where float32 elu(x)+1 rounds to 0", () => {
  const layer = new ShiftedELU({});
  const x = tf.tensor1d([-100, -30, -2, 0, 0.5, 3]);
  const got = (layer.apply(x) as tf.Tensor).dataSync();
  const want = [-100, -30, -2, 0, 0.5, 3].map((v) => (v > 0 ? v + 1 : Math.exp(v)));
  got.forEach((g, i) => {
    assert.ok(Math.abs(g - want[i]) <= 1e-6 * Math.max(1, want[i]), `${g} vs ${want[i]}`);
  });
  assert.ok(got[1] > 0);
});

test("save -> load gives identical outputs (with and without batch norm), encoder included", async () => {
  for (const batchNorm of [false, true]) {
    const g = buildGmcae({ ...TINY, batchNorm });
    const x = tf.randomUniform([2, 16, 16, 16, 1], -1, 1, "float32", 7);
    if (batchNorm) {
      // Move the batch-norm statistics away from their initial values first.
      g.model.apply(x, { training: true });
    }
    const dir = path.join(tmp, `g-${batchNorm}`);
    await saveGmcae(g, dir);
    const back = await loadGmcae(dir);
    assert.deepEqual(back.config, g.config);
    assert.deepEqual(
      Array.from((back.model.predict(x) as tf.Tensor).dataSync()),
      Array.from((g.model.predict(x) as tf.Tensor).dataSync()),
    );
    assert.deepEqual(
      Array.from((back.encoder.predict(x) as tf.Tensor).dataSync()),
      Array.from((g.encoder.predict(x) as tf.Tensor).dataSync()),
    );
  }
});

test("loadGmcae: a plain model or a missing directory is a typed error", async () => {
  const input = tf.input({ shape: [2] });
  const plain = tf.model({
    inputs: input,
    outputs: tf.layers.dense({ units: 1 }).apply(input) as tf.SymbolicTensor,
  });
  await saveModel(plain, path.join(tmp, "plain"));
  await assert.rejects(
    loadGmcae(path.join(tmp, "plain")),
    (e: unknown) => e instanceof GmcaeError && e.code === "BAD_MODEL",
  );
  await assert.rejects(
    loadGmcae(path.join(tmp, "none")),
    (e: unknown) => e instanceof GmcaeError && e.code === "BAD_CHECKPOINT",
  );
  assert.ok(await loadModel(path.join(tmp, "plain")));
});

test("reconstruct picks argmax(prior / sigma) per patch and returns that component's means", () => {
  const g = buildGmcae({ ...TINY, m: 3 });
  const x = tf.randomUniform([3, 16, 16, 16, 1], -1, 1, "float32", 11);
  const y = (g.model.predict(x) as tf.Tensor).arraySync() as number[][];
  const { recon, component } = reconstruct(g, x);
  const r = recon.arraySync() as number[][][][];
  y.forEach((row, b) => {
    const score = [0, 1, 2].map((k) => Math.exp(row[k]) / Math.sqrt(row[3 + k]));
    const k = score.indexOf(Math.max(...score));
    assert.equal(component[b], k);
    // voxel (z, y, x) = (1, 2, 3): index v = (1*16+2)*16+3, mean at 6 + v*3 + k
    const v = (1 * 16 + 2) * 16 + 3;
    assert.ok(Math.abs(r[b][1][2][3] - row[6 + v * 3 + k]) < 1e-6);
  });
});

test("mosaic PNG: originals left, reconstructions right, one row per patch", async () => {
  const d = 8;
  const a = new Float32Array(d ** 3).fill(-1);
  const b = new Float32Array(d ** 3).fill(1);
  const png = PNG.sync.read(mosaicPng([a, a], [b, b], d, { slices: 2, scale: 1 }));
  assert.equal(png.height, 2 * (d + 1) + 1);
  assert.equal(png.width, 2 * 2 * (d + 1) + 2);
  const px = (x: number, y: number) => png.data[(y * png.width + x) * 4];
  assert.equal(px(1, 1), 0); // original slice: -1 -> black
  assert.equal(px(png.width - 2, 1), 255); // reconstruction: 1 -> white
  const g = buildGmcae(TINY);
  const pts = phantomPatches(5, 4, 16);
  const batch = [...batches(pts, 2, 1, 1)][0];
  const file = path.join(tmp, "mosaic.png");
  await writeMosaic(g, batch.xs, file);
  assert.ok(PNG.sync.read(fs.readFileSync(file)).width > 0);
});

test("run config validation: unknown keys, wrong types, ranges, divisibility, all listed", () => {
  assert.deepEqual(parseRunConfig({}).model.filters, [64, 128, 256]);
  assert.throws(
    () =>
      parseRunConfig(
        {
          model: { patchSize: 30, filters: [4, "8"], m: 0, colour: 1 },
          train: { learningRate: -1, epochs: 1.5 },
          extra: 1,
        },
        "cfg.json",
      ),
    (e: unknown) => {
      assert.ok(e instanceof GmcaeError && e.code === "BAD_CONFIG");
      const msg = (e as Error).message;
      for (const s of [
        "cfg.json",
        "extra: unknown key",
        "model.colour: unknown key",
        'model.filters[1]: expected a integer, got "8"',
        "model.m: 0 is out of range",
        "train.learningRate: -1 is out of range",
        "train.epochs: expected an integer, got 1.5",
      ]) {
        assert.ok(msg.includes(s), `message lacks "${s}":\n${msg}`);
      }
      return true;
    },
  );
  assert.throws(
    () => parseRunConfig({ model: { patchSize: 20, filters: [4, 8, 16] } }),
    /not divisible by 2\^levels = 8/,
  );
});
