import assert from "node:assert/strict";
import { test } from "node:test";
import { buildGmcae } from "@lungflow/gmcae";
import { tf } from "@lungflow/tf-runtime";
import { ClassifierError, TiledEncoder } from "../src/index.ts";

await tf.setBackend("cpu");

function volume(shape: [number, number, number], seed: number): Float32Array {
  return tf.tidy(() => tf.randomUniform(shape, -1, 1, "float32", seed).dataSync() as Float32Array);
}

/** Max |a - b| relative to max |b|. */
function relDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

const cases: {
  filters: number[];
  kernelSize?: number;
  batchNorm?: boolean;
  shape: [number, number, number];
  tile: number | [number, number, number];
}[] = [
  { filters: [3, 4, 5], shape: [23, 37, 30], tile: 2 },
  { filters: [3, 4, 5], shape: [17, 9, 41], tile: [1, 3, 2] },
  { filters: [2, 3], shape: [31, 26, 19], tile: 3, batchNorm: true },
  { filters: [4, 6, 8], kernelSize: 4, shape: [27, 33, 20], tile: [2, 1, 3] },
  { filters: [3, 4, 5], shape: [8, 8, 8], tile: 8 },
];

for (const [i, c] of cases.entries()) {
  test(`tiled encoding equals the whole-volume encoder: ${c.shape.join("x")}, filters ${c.filters.join("-")}, tile ${c.tile}${c.batchNorm ? ", batch norm" : ""}${c.kernelSize ? `, kernel ${c.kernelSize}` : ""}`, async () => {
    const g = buildGmcae({
      patchSize: 2 ** c.filters.length * 2,
      filters: c.filters,
      m: 2,
      seed: 11 + i,
      kernelSize: c.kernelSize ?? 3,
      batchNorm: c.batchNorm ?? false,
    });
    // a whole-volume copy of the encoder (variable-size input), as the end-to-end classifier runs it
    const whole = tf.sequential();
    whole.add(tf.layers.inputLayer({ inputShape: [null, null, null, 1] }));
    for (const l of g.encoder.layers.slice(1)) {
      const cls = tf.serialization.SerializationMap.getMap().classNameMap[l.getClassName()];
      const clone = cls[1](cls[0], l.getConfig()) as tf.layers.Layer;
      whole.add(clone);
      clone.setWeights(l.getWeights());
    }
    // non-trivial batch-norm statistics so the point-wise steps matter
    if (c.batchNorm) {
      for (const l of whole.layers)
        if (l.getClassName() === "BatchNorm3D")
          l.setWeights(
            l.getWeights().map((w, j) => tf.randomUniform(w.shape, 0.5, 1.5, "float32", j + 5)),
          );
    }
    const vol = volume(c.shape, 100 + i);
    const want = tf.tidy(() => whole.predict(tf.tensor5d(vol, [1, ...c.shape, 1])) as tf.Tensor);
    const tiler = new TiledEncoder(whole);
    let tiles = 0;
    const got = await tiler.encode(vol, c.shape, { tile: c.tile, onTile: (d) => (tiles = d) });
    assert.deepEqual(got.shape, want.shape.slice(1));
    assert.deepEqual(tiler.outputShape(c.shape), want.shape.slice(1, 4));
    assert.ok(tiles >= 1);
    const diff = relDiff(got.data, (await want.data()) as Float32Array);
    assert.ok(diff <= 1e-5, `max relative difference ${diff}`);
    // not all zero: the comparison means something
    assert.ok(got.data.some((v) => v > 0));
    want.dispose();
    tiler.dispose();
  });
}

test("encoder geometry: stride and receptive field of the GMCAE encoder", () => {
  const g = buildGmcae({ patchSize: 16, filters: [2, 3, 4], m: 2 });
  const t = new TiledEncoder(g.encoder);
  assert.deepEqual(t.geometry.stride, [8, 8, 8]);
  // per level 3x3 (stride 1) then 3x3 (stride 2): 1 + 2 + 2 + 4 + 4 + 8 + 8 = 29
  assert.deepEqual(t.geometry.receptiveField, [29, 29, 29]);
  assert.equal(t.geometry.channels, 4);
  // the chosen tile is the largest that fits the budget
  for (const budget of [2e5, 3e6, 5e7]) {
    const tile = t.tileFor(budget);
    assert.ok(tile === 1 || t.tileBytes(tile) <= budget, `tile ${tile} for ${budget}`);
    assert.ok(tile === 32 || t.tileBytes(tile + 1) > budget);
  }
  assert.ok(t.tileFor(3e6) < t.tileFor(5e7));
  t.dispose();
});

test("a volume that does not match its shape is refused", async () => {
  const g = buildGmcae({ patchSize: 8, filters: [2], m: 2 });
  const t = new TiledEncoder(g.encoder);
  await assert.rejects(
    t.encode(new Float32Array(10), [2, 2, 2]),
    (e: unknown) => e instanceof ClassifierError && e.code === "BAD_CONFIG",
  );
  t.dispose();
});
