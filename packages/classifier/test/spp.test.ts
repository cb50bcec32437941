import assert from "node:assert/strict";
import { test } from "node:test";
import { tf } from "@lungflow/tf-runtime";
import { mulberry32 } from "@lungflow/volume";
import {
  SpatialPyramidPooling3D,
  spatialPyramidPool3d,
  sppBin,
  sppOutputSize,
} from "../src/index.ts";

await tf.setBackend("cpu");

const rng = mulberry32;

/** Brute force: for every bin and channel, scan every voxel and keep those inside the bin. */
function bruteSpp(data: Float32Array, shape: number[], bins: number[]): Float32Array {
  const [b, d, h, w, c] = shape;
  const out: number[] = [];
  for (let ib = 0; ib < b; ib++) {
    for (const n of bins) {
      for (let bz = 0; bz < n; bz++)
        for (let by = 0; by < n; by++)
          for (let bx = 0; bx < n; bx++)
            for (let ch = 0; ch < c; ch++) {
              let m = Number.NEGATIVE_INFINITY;
              for (let z = 0; z < d; z++)
                for (let y = 0; y < h; y++)
                  for (let x = 0; x < w; x++) {
                    // voxel z is in bin bz iff bz*d/n < z+1 and z < (bz+1)*d/n (real-valued overlap)
                    const inZ = z >= Math.floor((bz * d) / n) && z < Math.ceil(((bz + 1) * d) / n);
                    const inY = y >= Math.floor((by * h) / n) && y < Math.ceil(((by + 1) * h) / n);
                    const inX = x >= Math.floor((bx * w) / n) && x < Math.ceil(((bx + 1) * w) / n);
                    if (inZ && inY && inX)
                      m = Math.max(m, data[(((ib * d + z) * h + y) * w + x) * c + ch]);
                  }
              out.push(m);
            }
    }
  }
  return Float32Array.from(out);
}

test("bins cover every voxel and are never empty, including sizes below the bin count", () => {
  for (let len = 1; len <= 13; len++) {
    for (const n of [1, 2, 3, 4, 5]) {
      const covered = new Uint8Array(len);
      for (let i = 0; i < n; i++) {
        const [a, b] = sppBin(len, n, i);
        assert.ok(b > a, `bin ${i}/${n} of ${len} is empty`);
        assert.ok(a >= 0 && b <= len);
        for (let k = a; k < b; k++) covered[k] = 1;
      }
      assert.equal(
        covered.reduce((s, v) => s + v, 0),
        len,
        `len ${len} n ${n}`,
      );
      if (len % n === 0) {
        for (let i = 0; i < n; i++)
          assert.deepEqual(sppBin(len, n, i), [(i * len) / n, ((i + 1) * len) / n]);
      }
    }
  }
});

test("SPP equals brute force on odd sizes, sizes smaller than the bins and batches", () => {
  const r = rng(7);
  const shapes = [
    [1, 5, 7, 3, 2],
    [2, 9, 4, 11, 3],
    [1, 1, 2, 3, 1],
    [1, 8, 8, 8, 4],
    [3, 13, 6, 5, 2],
  ];
  for (const shape of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => r() * 4 - 2);
    const x = tf.tensor5d(data, shape as [number, number, number, number, number]);
    for (const bins of [[1, 2, 4], [3], [1, 2]]) {
      const y = spatialPyramidPool3d(x, bins);
      assert.deepEqual(y.shape, [shape[0], sppOutputSize(shape[4], bins)]);
      const got = y.dataSync();
      const want = bruteSpp(data, shape, bins);
      assert.deepEqual(Array.from(got), Array.from(want), `shape ${shape} bins ${bins}`);
      y.dispose();
    }
    x.dispose();
  }
});

test("the layer accepts variable spatial sizes, passes gradients to the max voxels and serialises", async () => {
  const input = tf.input({ shape: [null, null, null, 2] });
  const spp = new SpatialPyramidPooling3D({ bins: [1, 2] });
  const out = spp.apply(input) as tf.SymbolicTensor;
  assert.deepEqual(out.shape, [null, 2 * 9]);
  const model = tf.model({ inputs: input, outputs: out });
  for (const s of [
    [1, 4, 5, 6, 2],
    [1, 9, 3, 2, 2],
  ] as const) {
    const y = model.predict(tf.randomNormal([...s], 0, 1, "float32", 3)) as tf.Tensor;
    assert.deepEqual(y.shape, [1, 18]);
  }
  // gradient of sum(SPP) w.r.t. x: each voxel gets the number of bins in which it is the max
  const x = tf.tensor5d([1, 5, 2, 3], [1, 1, 2, 2, 1]);
  const g = tf.grad((t: tf.Tensor) => spatialPyramidPool3d(t as tf.Tensor5D, [1, 2]).sum())(x);
  // level 1: max is 5 (index 1); level 2 (bins of 1 voxel in y,x; z has 1 voxel so both z-bins see it): each voxel is max of 2 bins
  assert.deepEqual(Array.from(g.dataSync()), [2, 3, 2, 2]);
  const json = model.toJSON(null, false) as unknown as string;
  assert.match(typeof json === "string" ? json : JSON.stringify(json), /SpatialPyramidPooling3D/);
  const config = spp.getConfig();
  assert.deepEqual(config.bins, [1, 2]);
  assert.throws(() => new SpatialPyramidPooling3D({ bins: [0] }), /positive integers/);
});

/** Brute force of one pooled value per bin and channel for "mean" and "lse" (log-mean-exp). */
function brutePool(
  data: Float32Array,
  shape: number[],
  bins: number[],
  pooling: "mean" | "lse",
  r: number,
): Float64Array {
  const [b, d, h, w, c] = shape;
  const out: number[] = [];
  for (let ib = 0; ib < b; ib++)
    for (const n of bins)
      for (let bz = 0; bz < n; bz++)
        for (let by = 0; by < n; by++)
          for (let bx = 0; bx < n; bx++)
            for (let ch = 0; ch < c; ch++) {
              const vals: number[] = [];
              const [z0, z1] = sppBin(d, n, bz);
              const [y0, y1] = sppBin(h, n, by);
              const [x0, x1] = sppBin(w, n, bx);
              for (let z = z0; z < z1; z++)
                for (let y = y0; y < y1; y++)
                  for (let x = x0; x < x1; x++)
                    vals.push(data[(((ib * d + z) * h + y) * w + x) * c + ch]);
              const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
              out.push(
                pooling === "mean"
                  ? mean(vals)
                  : Math.log(mean(vals.map((v) => Math.exp(r * v)))) / r,
              );
            }
  return Float64Array.from(out);
}

test("mean and lse pooling equal brute force; lse lies between mean and max and tends to the max", () => {
  const r = rng(11);
  for (const shape of [
    [1, 5, 7, 3, 2],
    [2, 3, 4, 5, 1],
  ]) {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => r() * 6 - 3);
    const x = tf.tensor5d(data, shape as [number, number, number, number, number]);
    for (const [pooling, sharp] of [
      ["mean", 1],
      ["lse", 1],
      ["lse", 8],
    ] as const) {
      const got = spatialPyramidPool3d(x, [1, 2], pooling, sharp).dataSync();
      const want = brutePool(data, shape, [1, 2], pooling, sharp);
      for (let i = 0; i < want.length; i++)
        assert.ok(
          Math.abs(got[i] - want[i]) < 1e-4,
          `${pooling} r=${sharp} [${i}] ${got[i]} vs ${want[i]}`,
        );
    }
    const mx = spatialPyramidPool3d(x, [1, 2]).dataSync();
    const mean = spatialPyramidPool3d(x, [1, 2], "mean").dataSync();
    const lse = spatialPyramidPool3d(x, [1, 2], "lse", 2).dataSync();
    const sharp = spatialPyramidPool3d(x, [1, 2], "lse", 1000).dataSync();
    for (let i = 0; i < mx.length; i++) {
      assert.ok(lse[i] >= mean[i] - 1e-5 && lse[i] <= mx[i] + 1e-5);
      assert.ok(Math.abs(sharp[i] - mx[i]) < 0.02, `r=1000: ${sharp[i]} vs max ${mx[i]}`);
    }
    x.dispose();
  }
});

test("lse and mean pooling gradients match finite differences", () => {
  const r = rng(5);
  const shape = [1, 3, 4, 3, 2] as [number, number, number, number, number];
  const n = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => r() * 2 - 1);
  // a fixed random projection of the pooled vector, so every output's gradient counts
  const proj = tf.tensor1d(Float32Array.from({ length: 2 * 9 }, () => r() * 2 - 1));
  for (const [pooling, sharp] of [
    ["lse", 3],
    ["mean", 1],
  ] as const) {
    const f = (t: tf.Tensor) =>
      tf.sum(tf.mul(spatialPyramidPool3d(t as tf.Tensor5D, [1, 2], pooling, sharp), proj));
    const g = tf.grad(f)(tf.tensor5d(data, shape)).dataSync();
    const h = 1e-2;
    for (let i = 0; i < n; i++) {
      const plus = Float32Array.from(data);
      const minus = Float32Array.from(data);
      plus[i] += h;
      minus[i] -= h;
      const fd =
        (f(tf.tensor5d(plus, shape)).dataSync()[0] - f(tf.tensor5d(minus, shape)).dataSync()[0]) /
        (2 * h);
      assert.ok(Math.abs(fd - g[i]) < 2e-3, `${pooling} voxel ${i}: grad ${g[i]} vs fd ${fd}`);
    }
  }
});

test("pooling and sharpness serialise and are validated", () => {
  const spp = new SpatialPyramidPooling3D({ bins: [1], pooling: "lse", sharpness: 4 });
  const cfg = spp.getConfig();
  assert.equal(cfg.pooling, "lse");
  assert.equal(cfg.sharpness, 4);
  const back = SpatialPyramidPooling3D.fromConfig(
    SpatialPyramidPooling3D,
    cfg,
  ) as SpatialPyramidPooling3D;
  assert.equal(back.pooling, "lse");
  assert.equal(back.sharpness, 4);
  assert.throws(() => new SpatialPyramidPooling3D({ sharpness: 0 }), /sharpness/);
  assert.throws(
    () => new SpatialPyramidPooling3D({ pooling: "median" as unknown as "max" }),
    /unknown pooling/,
  );
});
