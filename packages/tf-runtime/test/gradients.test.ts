import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { initTf, tf } from "../src/index.ts";

/** Deterministic values in [-1, 1) (LCG), so a failure reproduces. */
function rand(shape: number[], seed: number): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 31 - 1;
  }
  return tf.tensor(a, shape);
}

/**
 * Checks tf.grads of L = sum(f(inputs) * r) against central finite differences, element by
 * element. Every conv is linear in each argument, so a central difference is exact up to
 * float32 rounding for any step: a large step (0.5) keeps the rounding error small.
 */
function checkGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  seed: number,
): number {
  const out = f(...inputs);
  const r = rand(out.shape, seed);
  const loss = (...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), r));
  const analytic = tf
    .grads(loss)(inputs)
    .map((g) => g.dataSync());
  const eps = 0.5;
  let worst = 0;
  inputs.forEach((input, k) => {
    const base = input.dataSync();
    let scale = 0;
    const fd = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const plus = Float32Array.from(base);
      plus[i] += eps;
      const minus = Float32Array.from(base);
      minus[i] -= eps;
      const at = (v: Float32Array) =>
        tf.tidy(() => {
          const xs = inputs.map((t, j) => (j === k ? tf.tensor(v, t.shape) : t));
          return loss(...xs).dataSync()[0];
        });
      fd[i] = (at(plus) - at(minus)) / (2 * eps);
      scale = Math.max(scale, Math.abs(fd[i]));
    }
    for (let i = 0; i < base.length; i++) {
      const err = Math.abs(analytic[k][i] - fd[i]) / Math.max(scale, 1e-6);
      worst = Math.max(worst, err);
      assert.ok(
        err < 1e-4,
        `input ${k} element ${i}: analytic ${analytic[k][i]} vs finite difference ${fd[i]}`,
      );
    }
  });
  return worst;
}

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});

// [batch, depth, height, width, inChannels], kernel size, outChannels, stride
const CASES: Array<{ x: number[]; k: number; out: number; stride: number }> = [
  { x: [1, 4, 4, 4, 1], k: 3, out: 2, stride: 1 },
  { x: [2, 5, 4, 3, 2], k: 3, out: 3, stride: 1 },
  { x: [1, 4, 4, 4, 2], k: 3, out: 2, stride: 2 },
  { x: [2, 5, 6, 3, 2], k: 3, out: 2, stride: 2 },
  { x: [1, 6, 6, 6, 1], k: 2, out: 2, stride: 2 },
];

describe("conv3d gradients (Conv3D -> Conv3DBackpropInputV2 / FilterV2)", () => {
  for (const c of CASES) {
    test(`x ${c.x.join("x")}, k ${c.k}, ${c.out} out, stride ${c.stride}, same`, () => {
      const x = rand(c.x, 1);
      const w = rand([c.k, c.k, c.k, c.x[4], c.out], 2);
      const worst = checkGrads(
        (a, b) => tf.conv3d(a as tf.Tensor5D, b as tf.Tensor5D, c.stride, "same"),
        [x, w],
        3,
      );
      assert.ok(worst < 1e-4);
    });
  }
});

describe("conv3dTranspose gradients (the registered Conv3DBackpropInputV2 gradient)", () => {
  for (const c of CASES) {
    test(`y ${c.x.join("x")}, k ${c.k}, ${c.out} out, stride ${c.stride}, same`, () => {
      // conv3dTranspose maps [b, d, h, w, in] -> [b, d*s, h*s, w*s, out]; filter [k,k,k,out,in].
      const [b, d, h, wd, cin] = c.x;
      const outShape: [number, number, number, number, number] = [
        b,
        d * c.stride,
        h * c.stride,
        wd * c.stride,
        c.out,
      ];
      const x = rand(c.x, 4);
      const w = rand([c.k, c.k, c.k, c.out, cin], 5);
      checkGrads(
        (a, f) =>
          tf.conv3dTranspose(a as tf.Tensor5D, f as tf.Tensor5D, outShape, c.stride, "same"),
        [x, w],
        6,
      );
    });
  }

  test("the registered gradient is what tfjs calls (it had none)", () => {
    assert.ok(tf.getGradient("Conv3DBackpropInputV2") !== undefined);
  });

  test("a wrong gradient would be caught (the checker can fail)", () => {
    const x = rand([1, 4, 4, 4, 1], 7);
    const w = rand([3, 3, 3, 1, 2], 8);
    // f(x) = conv3d(x) but with a custom gradient that is off by 1%.
    const bad = tf.customGrad(((a: tf.Tensor, f: tf.Tensor, save: tf.GradSaveFunc) => {
      save([a, f]);
      const value = tf.conv3d(a as tf.Tensor5D, f as tf.Tensor5D, 1, "same");
      const gradFunc = (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [a0, f0] = saved as [tf.Tensor5D, tf.Tensor5D];
        const ga = tf.conv3dTranspose(dy as tf.Tensor5D, f0, a0.shape, 1, "same");
        return [tf.mul(ga, 1.01), tf.zerosLike(f0)];
      };
      return { value, gradFunc };
    }) as unknown as Parameters<typeof tf.customGrad>[0]);
    assert.throws(
      () => checkGrads((a, f) => bad(a, f) as tf.Tensor, [x, w], 9),
      /finite difference/,
    );
  });
});
