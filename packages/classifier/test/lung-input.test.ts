import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGmcae } from "@lungflow/gmcae";
import { tf } from "@lungflow/tf-runtime";
import {
  buildClassifier,
  ClassifierError,
  concatChannels,
  densityMap,
  densityPools,
  encoderStride,
  lungInput,
  TiledEncoder,
} from "../src/index.ts";

await tf.setBackend("cpu");

test("lungInput normalises HU and reads the voxels outside the region as air", () => {
  const hu = Int16Array.from([-1000, -300, 400, 1500, -2000, 60]);
  const region = Uint8Array.from([1, 1, 1, 1, 1, 0]);
  const want = [-1, 0, 1, 1, -1, 360 / 700];
  const plain = lungInput(hu);
  const masked = lungInput(hu, region);
  for (let i = 0; i < 6; i++) {
    assert.ok(Math.abs(plain[i] - want[i]) < 1e-6, `${i}: ${plain[i]}`);
    if (i < 5) assert.equal(masked[i], plain[i]);
  }
  assert.equal(lungInput(hu, region)[5], -1);
  assert.throws(
    () => lungInput(hu, new Uint8Array(5)),
    (e: unknown) => e instanceof ClassifierError && e.code === "BAD_CONFIG",
  );
});

test("densityMap lands on the encoder's grid and holds the densest window-cube near each feature voxel", async () => {
  const g = buildGmcae({ patchSize: 8, filters: [2, 3, 2], m: 2, seed: 1 });
  const stride = encoderStride(g.encoder);
  assert.deepEqual(stride, [8, 8, 8]);
  const tiler = new TiledEncoder(g.encoder);
  for (const shape of [
    [21, 30, 17],
    [9, 12, 40],
  ] as [number, number, number][]) {
    const n = shape[0] * shape[1] * shape[2];
    const x = new Float32Array(n).fill(-1);
    // one dense cube of up to 13^3 in a corner, a thin dense rod elsewhere
    const [Z, Y, X] = shape;
    const at = (z: number, y: number, xx: number) => (z * Y + y) * X + xx;
    for (let z = 0; z < Math.min(13, Z); z++)
      for (let y = 0; y < Math.min(13, Y); y++)
        for (let xx = 0; xx < Math.min(13, X); xx++) x[at(z, y, xx)] = 0.2;
    for (let z = 0; z < Z; z++) x[at(z, Y - 3, X - 3)] = 0.2;
    const d = densityMap(x, shape, stride, 8);
    assert.deepEqual(d.shape, [...tiler.outputShape(shape), 1]);
    // brute force: 'same' average pool 8 stride 4 (padding excluded), then 'same' max 2 stride 2
    const p = densityPools(stride, 8);
    const ref = tf.tidy(() =>
      tf.maxPool3d(
        tf.avgPool3d(tf.tensor5d(x, [1, ...shape, 1]), p.avg.pool, p.avg.strides, "same"),
        2,
        2,
        "same",
      ),
    );
    assert.deepEqual(Array.from(d.data), Array.from(ref.dataSync()));
    ref.dispose();
    const mx = Math.max(...d.data);
    assert.ok(Math.abs(mx - 0.2) < 1e-6, `the dense cube fills a window: max mean ${mx}`);
    // the model's density layers give the same channel as densityMap (last channel)
    const model = buildClassifier(g.encoder, { channels: "all", dense: [], conv: [] });
    const probe = tf.model({
      inputs: model.inputs,
      outputs: model.getLayer("features_density").output as tf.SymbolicTensor,
    });
    const out = probe.predict(tf.tensor5d(x, [1, ...shape, 1])) as tf.Tensor;
    const all = out.dataSync();
    const c = out.shape[4] as number;
    assert.equal(c, 3);
    for (let i = 0; i < d.data.length; i++) assert.equal(all[i * c + c - 1], d.data[i]);
    // concatChannels puts it last, after the encoder's channels
    const f = await tiler.encode(x, shape);
    const both = concatChannels(f, d);
    assert.deepEqual(both.shape, [...f.shape.slice(0, 3), 3]);
    for (let i = 0; i < d.data.length; i++) {
      assert.equal(both.data[i * 3 + 2], d.data[i]);
      assert.ok(
        Math.abs(both.data[i * 3] - all[i * 3]) <= 1e-5 * Math.max(1, Math.abs(all[i * 3])),
      );
    }
  }
  tiler.dispose();
});
