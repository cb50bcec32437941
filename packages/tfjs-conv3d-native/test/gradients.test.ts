// Gradients of conv3d and conv3dTranspose computed through the native kernels agree with
// central finite differences of the forward pass (also native). The loss sum(op(a, w) * r)
// is linear in each argument, so central differences are exact up to float32 rounding.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { registerNativeConv3d, unregisterNativeConv3d } from "../src/index.ts";
import { cpuBackend, type Pad, randArray, tf, type V3 } from "./helpers.ts";

type S5 = [number, number, number, number, number];

before(async () => {
  await cpuBackend();
  // tfjs has no gradient for Conv3DBackpropInputV2 (tf-runtime registers this one).
  if (!tf.getGradient("Conv3DBackpropInputV2")) {
    tf.registerGradient({
      kernelName: "Conv3DBackpropInputV2",
      inputsToSave: ["dy", "filter"],
      gradFunc: (ddx, saved, attrs) => {
        const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
        const { strides, pad } = attrs as unknown as { strides: V3; pad: "same" };
        return {
          dy: () => tf.conv3d(ddx as tf.Tensor5D, filter, strides, pad),
          filter: () =>
            tf
              .engine()
              .runKernel(
                "Conv3DBackpropFilterV2",
                { x: ddx as tf.Tensor, dy },
                { strides, pad, filterShape: filter.shape },
              ) as tf.Tensor,
        };
      },
    });
  }
  const s = registerNativeConv3d(tf, { threads: 2 });
  assert.ok(s.ok, s.reason);
});
after(() => unregisterNativeConv3d(tf));

/** Checks d loss / d args[i] at `probes` coordinates of each argument against central differences. */
function checkGrads(
  name: string,
  shapes: S5[],
  f: (...args: tf.Tensor5D[]) => tf.Tensor,
  outShape: number[],
  seed: number,
): void {
  const vals = shapes.map((s, i) =>
    randArray(
      s.reduce((a, b) => a * b, 1),
      seed + i,
    ),
  );
  const r = tf.tensor(
    randArray(
      outShape.reduce((a, b) => a * b, 1),
      seed + 9,
    ),
    outShape,
  );
  const loss = (...args: tf.Tensor5D[]) => tf.sum(tf.mul(f(...args), r));
  const lossAt = (arrays: Float32Array[]) =>
    tf.tidy(() => loss(...arrays.map((a, i) => tf.tensor5d(a, shapes[i]))).dataSync()[0]);
  const grads = tf.tidy(() =>
    tf
      .grads((...a: tf.Tensor[]) => loss(...(a as tf.Tensor5D[])))(
        vals.map((v, i) => tf.tensor5d(v, shapes[i])),
      )
      .map((g) => g.dataSync() as Float32Array),
  );
  const eps = 0.5;
  for (let i = 0; i < shapes.length; i++) {
    const g = grads[i];
    const gmax = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(gmax > 0, `${name}: gradient ${i} is all zeros`);
    const probes = Math.min(12, g.length);
    for (let p = 0; p < probes; p++) {
      const k = Math.floor(
        (((p * 7919 + seed * 31) % g.length) + (p * g.length) / probes) % g.length,
      );
      const plus = vals.map((v) => v.slice());
      const minus = vals.map((v) => v.slice());
      plus[i][k] += eps;
      minus[i][k] -= eps;
      const fd = (lossAt(plus) - lossAt(minus)) / (2 * eps);
      const err = Math.abs(fd - g[k]) / gmax;
      assert.ok(
        err < 1e-3,
        `${name}: d/d arg${i}[${k}] analytic ${g[k]} vs finite difference ${fd}`,
      );
    }
  }
}

const CONV: Array<{ x: S5; k: S5; s: V3; pad: Pad }> = [
  { x: [1, 5, 4, 6, 3], k: [3, 3, 3, 3, 4], s: [1, 1, 1], pad: "same" },
  { x: [2, 5, 6, 4, 2], k: [3, 3, 3, 2, 5], s: [2, 2, 2], pad: "same" },
  { x: [1, 6, 5, 7, 4], k: [3, 3, 3, 4, 8], s: [2, 1, 2], pad: "valid" },
  { x: [1, 4, 4, 4, 1], k: [3, 3, 3, 1, 8], s: [1, 1, 1], pad: "same" },
];

for (const [i, c] of CONV.entries()) {
  test(`conv3d gradients (x ${c.x.join("x")}, k ${c.k.join("x")}, strides ${c.s}, ${c.pad})`, () => {
    const out = tf.tidy(
      () =>
        tf.conv3d(tf.zeros(c.x) as tf.Tensor5D, tf.zeros(c.k) as tf.Tensor5D, c.s, c.pad as "same")
          .shape,
    );
    checkGrads(
      "conv3d",
      [c.x, c.k],
      (x, w) => tf.conv3d(x, w, c.s, c.pad as "same"),
      out,
      10 * i + 1,
    );
  });
}

// conv3dTranspose(dy, w, outShape): dy is [N, OD, OH, OW, CO] with w [k, k, k, C, CO].
const TRANSPOSE: Array<{ dy: S5; k: S5; out: S5; s: V3; pad: "same" | "valid" }> = [
  { dy: [1, 3, 3, 3, 4], k: [3, 3, 3, 2, 4], out: [1, 6, 6, 6, 2], s: [2, 2, 2], pad: "same" },
  { dy: [2, 3, 2, 3, 3], k: [3, 3, 3, 4, 3], out: [2, 5, 4, 6, 4], s: [2, 2, 2], pad: "same" },
  { dy: [1, 4, 3, 4, 2], k: [3, 3, 3, 3, 2], out: [1, 4, 3, 4, 3], s: [1, 1, 1], pad: "same" },
  { dy: [1, 2, 3, 2, 2], k: [3, 3, 3, 2, 2], out: [1, 5, 7, 5, 2], s: [2, 2, 2], pad: "valid" },
];

for (const [i, c] of TRANSPOSE.entries()) {
  test(`conv3dTranspose gradients (dy ${c.dy.join("x")}, out ${c.out.join("x")}, strides ${c.s}, ${c.pad})`, () => {
    checkGrads(
      "conv3dTranspose",
      [c.dy, c.k],
      (dy, w) => tf.conv3dTranspose(dy, w, c.out, c.s, c.pad),
      c.out,
      10 * i + 5,
    );
  });
}
