import assert from "node:assert/strict";
import { before, test } from "node:test";
import { initTf, registerFastCpuKernels, tf, unregisterFastCpuKernels } from "../src/index.ts";

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});

function both<T>(f: () => T): [T, T] {
  unregisterFastCpuKernels();
  const ref = f();
  registerFastCpuKernels();
  return [ref, f()];
}

test("fast bias Add / Sum equal tfjs's kernels (and other cases fall through)", () => {
  const x = tf.randomUniform([2, 3, 4, 5, 6], -1, 1, "float32", 1);
  const cases: Array<() => tf.Tensor> = [
    () => tf.add(x, tf.randomUniform([1, 1, 1, 1, 6], -1, 1, "float32", 2)),
    () => tf.add(tf.randomUniform([6], -1, 1, "float32", 3), x),
    () => tf.add(x, tf.randomUniform([1, 1, 1, 5, 1], -1, 1, "float32", 4)), // not per-channel
    () => tf.add(x, x),
    () => tf.sum(x, [0, 1, 2, 3]),
    () => tf.sum(x, [0, 1, 2, 3], true),
    () => tf.sum(x, [1, 2]),
    () => tf.sum(tf.randomUniform([1, 4, 3, 2, 5], -1, 1, "float32", 7), [1, 2, 3]),
    () => tf.sum(tf.randomUniform([1, 4, 3, 2, 5], -1, 1, "float32", 7), [1, 2, 3], true),
    () => tf.sum(tf.randomUniform([1, 4, 1, 2, 5], -1, 1, "float32", 7), [0, 1, 3]),
    () => tf.sum(x),
    () => tf.sum(tf.randomUniform([7, 3], 0, 1, "float32", 5), 0),
    () => tf.sum(tf.tensor([1, 2, 3], [3], "int32")),
  ];
  for (const [i, c] of cases.entries()) {
    const [ref, fast] = both(() => {
      const t = c();
      return { shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) };
    });
    assert.deepEqual(fast.shape, ref.shape, `case ${i}`);
    assert.equal(fast.dtype, ref.dtype);
    fast.v.forEach((v, j) => {
      assert.ok(
        Math.abs(v - ref.v[j]) <= 1e-5 * Math.max(1, Math.abs(ref.v[j])),
        `case ${i}[${j}]: ${v} vs ${ref.v[j]}`,
      );
    });
  }
  // The bias gradient through the fast kernels.
  const bias = tf.randomUniform([1, 1, 1, 1, 6], -1, 1, "float32", 6);
  const [gRef, gFast] = both(() =>
    Array.from(
      tf
        .grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(x, b), x)))(bias)
        .dataSync(),
    ),
  );
  gFast.forEach((v, j) => {
    assert.ok(Math.abs(v - gRef[j]) <= 1e-5 * Math.max(1, Math.abs(gRef[j])));
  });
});
