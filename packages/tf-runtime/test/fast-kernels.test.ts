import assert from "node:assert/strict";
import { before, test } from "node:test";
import { fastKernels } from "../src/fast-kernels/index.ts";
import { initTf, registerFastCpuKernels, tf, unregisterFastCpuKernels } from "../src/index.ts";

/** Fast kernels that computed a result themselves (not handed to tfjs's), in call order. */
const took: string[] = [];

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
  // Count the calls each fast kernel takes, so that a comparison can never be tfjs's
  // kernel against itself (a fast kernel missing, or declining the case) without failing.
  const table = fastKernels();
  for (const [name, f] of Object.entries(table)) {
    table[name] = (args) => {
      const r = f(args);
      if (r !== undefined) took.push(name);
      return r;
    };
  }
  unregisterFastCpuKernels();
  registerFastCpuKernels();
});

/** `f` with tfjs's kernels, then with the fast ones; `fast` lists the fast kernels that ran. */
function both<T>(f: () => T): [T, T, string[]] {
  unregisterFastCpuKernels();
  took.length = 0;
  const ref = f();
  assert.deepEqual(took, [], "no fast kernel while unregistered");
  registerFastCpuKernels();
  const fast = f();
  return [ref, fast, [...new Set(took)]];
}

test("fast bias Add / Sum equal tfjs's kernels (and other cases fall through)", () => {
  const x = tf.randomUniform([2, 3, 4, 5, 6], -1, 1, "float32", 1);
  // Each case with the fast kernel that must compute it ("" = handed to tfjs's kernel).
  const cases: Array<[string, () => tf.Tensor]> = [
    ["Add", () => tf.add(x, tf.randomUniform([1, 1, 1, 1, 6], -1, 1, "float32", 2))],
    ["Add", () => tf.add(tf.randomUniform([6], -1, 1, "float32", 3), x)],
    ["Add", () => tf.add(x, tf.randomUniform([1, 1, 1, 5, 1], -1, 1, "float32", 4))], // not per-channel
    ["Add", () => tf.add(x, x)],
    ["Sum", () => tf.sum(x, [0, 1, 2, 3])],
    ["Sum", () => tf.sum(x, [0, 1, 2, 3], true)],
    ["Sum", () => tf.sum(x, [1, 2])],
    ["Sum", () => tf.sum(tf.randomUniform([1, 4, 3, 2, 5], -1, 1, "float32", 7), [1, 2, 3])],
    ["Sum", () => tf.sum(tf.randomUniform([1, 4, 3, 2, 5], -1, 1, "float32", 7), [1, 2, 3], true)],
    ["Sum", () => tf.sum(tf.randomUniform([1, 4, 1, 2, 5], -1, 1, "float32", 7), [0, 1, 3])],
    ["Sum", () => tf.sum(x)],
    ["Sum", () => tf.sum(tf.randomUniform([7, 3], 0, 1, "float32", 5), 0)],
    ["", () => tf.sum(tf.tensor([1, 2, 3], [3], "int32"))], // int32: tfjs's kernel
  ];
  for (const [i, [kernel, c]] of cases.entries()) {
    const [ref, fast, ran] = both(() => {
      const t = c();
      return { shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) };
    });
    assert.deepEqual(ran, kernel ? [kernel] : [], `case ${i}: fast kernels that ran`);
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
  const [gRef, gFast, gRan] = both(() =>
    Array.from(
      tf
        .grad((b: tf.Tensor) => tf.sum(tf.mul(tf.add(x, b), x)))(bias)
        .dataSync(),
    ),
  );
  for (const k of ["Add", "Sum"]) assert.ok(gRan.includes(k), `gradient: fast ${k} ran (${gRan})`);
  gFast.forEach((v, j) => {
    assert.ok(Math.abs(v - gRef[j]) <= 1e-5 * Math.max(1, Math.abs(gRef[j])));
  });
});
