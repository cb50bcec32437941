import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { buildGmcae, saveGmcae } from "@lungflow/gmcae";
import { saveModel, tf } from "@lungflow/tf-runtime";
import {
  ClassifierError,
  classifierEncoder,
  classifierFromGmcae,
  KDSB17_HEAD,
  loadClassifier,
  resolveCheckpoint,
} from "../src/index.ts";

await tf.setBackend("cpu");

for (const batchNorm of [false, true]) {
  test(`a classifier built from a saved GMCAE computes the GMCAE encoder's features (batch norm ${batchNorm})`, async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lungflow-transfer-"));
    const g = buildGmcae({ patchSize: 16, filters: [2, 4], m: 2, batchNorm, seed: 3 });
    await saveGmcae(g, path.join(dir, "gmcae", "best"));
    const model = await classifierFromGmcae(path.join(dir, "gmcae"), {
      ...KDSB17_HEAD,
      dense: [8],
      dropout: 0.5,
      seed: 1,
    });
    const x = tf.randomNormal([1, 16, 16, 16, 1], 0, 1, "float32", 9);
    const want = g.encoder.predict(x) as tf.Tensor;
    const got = classifierEncoder(model).predict(x) as tf.Tensor;
    assert.deepEqual(got.shape, want.shape);
    assert.ok(tf.max(tf.abs(tf.sub(got, want))).dataSync()[0] < 1e-6);
    // saved and loaded classifier gives identical probabilities (custom layers registered)
    await saveModel(model, path.join(dir, "cls", "best"));
    const back = await loadClassifier(path.join(dir, "cls"));
    const v = tf.randomNormal([1, 21, 18, 25, 1], 0, 1, "float32", 1);
    assert.equal(
      (back.predict(v) as tf.Tensor).dataSync()[0],
      (model.predict(v) as tf.Tensor).dataSync()[0],
    );
  });
}

test("a folder without a checkpoint is a clear error", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lungflow-transfer-"));
  await assert.rejects(
    resolveCheckpoint(dir),
    (e: unknown) => e instanceof ClassifierError && e.code === "CHECKPOINT_NOT_FOUND",
  );
});
