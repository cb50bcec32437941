import assert from "node:assert/strict";
import { test } from "node:test";
import { tf } from "@lungflow/tf-runtime";
import {
  buildFeatureHead,
  buildPooledHead,
  ClassifierError,
  KDSB17_HEAD,
  pooledFeatureId,
  poolsFirst,
  spatialPyramidPool3d,
  sppOutputSize,
} from "../src/index.ts";

await tf.setBackend("cpu");

test("a pooled head on SPP vectors predicts what the feature head predicts on the maps (same weights by name)", () => {
  const head = { ...KDSB17_HEAD, dense: [6, 5], dropout: 0.3, seed: 4 };
  const fh = buildFeatureHead(3, head);
  fh.setWeights(fh.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.7, "float32", 10 + i)));
  const P = sppOutputSize(3, [1, 2, 4]);
  const ph = buildPooledHead(P, head);
  for (const l of ph.layers) if (l.weights.length) l.setWeights(fh.getLayer(l.name).getWeights());
  for (const [z, y, x] of [
    [5, 7, 6],
    [9, 4, 11],
  ]) {
    const map = tf.randomUniform([1, z, y, x, 3], 0, 2, "float32", z) as tf.Tensor5D;
    const pooled = spatialPyramidPool3d(map, [1, 2, 4]).reshape([1, 1, 1, 1, P]);
    const a = (fh.predict(map) as tf.Tensor).dataSync()[0];
    const b = (ph.predict(pooled) as tf.Tensor).dataSync()[0];
    assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
    assert.ok(a > 0 && a < 1);
  }
});

test("only heads with nothing trainable before the pooling have pooled ids and pooled heads", () => {
  assert.equal(poolsFirst(KDSB17_HEAD), true);
  assert.equal(poolsFirst({}), false, "the default head standardises and convolves first");
  assert.equal(poolsFirst({ ...KDSB17_HEAD, conv: [4] }), false);
  assert.equal(poolsFirst({ ...KDSB17_HEAD, detector: 1 }), false);
  assert.equal(poolsFirst({ ...KDSB17_HEAD, standardize: true }), false);
  assert.equal(
    pooledFeatureId("enc-0123456789abcdef", KDSB17_HEAD),
    "enc-0123456789abcdef.spp-max-1-2-4",
  );
  assert.equal(
    pooledFeatureId("enc-0123456789abcdef", { pooling: "lse", sharpness: 2, bins: [1, 3] }),
    "enc-0123456789abcdef.spp-lse2-1-3",
  );
  assert.throws(
    () => buildPooledHead(10, { conv: [2] }),
    (e: unknown) => e instanceof ClassifierError && e.code === "BAD_CONFIG",
  );
});
