/**
 * The fused native Adam update against tfjs's own AdamOptimizer: the same weights, moments,
 * accBeta and iteration count, bit for bit, over several steps, for both gradient forms, and
 * tfjs's path (still equal) when a weight's memory is shared by another tensor.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import {
  fusedAdam,
  registerFastCpuKernels,
  unregisterFastCpuKernels,
} from "../src/fast-kernels/index.ts";
import { initTf, tf } from "../src/index.ts";

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});

// Odd sizes, one of several 16K-element native tasks, one element.
const SHAPES = [[3, 3, 3, 8, 16], [40001], [5], [1]];

function values(n: number, seed: number, scale: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296 - 0.5) * scale;
  }
  return a;
}

let run = 0;

/** Three Adam steps on fresh variables; every weight and optimizer state value after them. */
async function trainAll(fused: boolean, arrayForm: boolean, hold?: number) {
  if (fused) registerFastCpuKernels();
  else unregisterFastCpuKernels();
  const tag = `adam_${run++}`;
  // Made inside tidy (as layers' initialisers are): each weight owns its memory.
  const vars = SHAPES.map((s, i) => {
    const n = s.reduce((a, b) => a * b);
    return tf.tidy(() => tf.variable(tf.tensor(values(n, 11 + i, 2), s), true, `${tag}_${i}`));
  });
  const ids = vars.map((v) => v.dataId);
  const held = hold === undefined ? undefined : tf.reshape(vars[hold], [-1]);
  const heldBefore = held?.dataSync().slice();
  const opt = tf.train.adam(0.01, 0.9, 0.999, 1e-7);
  for (let step = 0; step < 3; step++) {
    const grads = vars.map((v, i) =>
      tf.tensor(values(v.size, 100 * step + i, 1e-2 * 10 ** i), v.shape),
    );
    if (arrayForm) opt.applyGradients(vars.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    else
      opt.applyGradients(
        Object.fromEntries(vars.map((v, i) => [v.name, grads[i]])) as Parameters<
          typeof opt.applyGradients
        >[0],
      );
    tf.dispose(grads);
  }
  if (held)
    assert.deepEqual(held.dataSync(), heldBefore, "a tensor sharing a weight's memory changed");
  // The fused step updates in place (same memory); tfjs's assigns new tensors.
  const inPlace = vars.map((v, i) => v.dataId === ids[i]);
  const state = await opt.getWeights();
  const result = {
    inPlace,
    weights: vars.map((v) => v.dataSync().slice()),
    state: state.map((w) => ({
      name: w.name.replace(/adam_\d+_/, ""),
      v: w.tensor.dataSync().slice(),
    })),
  };
  tf.dispose([...vars, ...(held ? [held] : [])]);
  opt.dispose();
  unregisterFastCpuKernels();
  return result;
}

test("the fused Adam step equals tfjs's AdamOptimizer bit for bit (3 steps, both gradient forms)", async () => {
  for (const arrayForm of [false, true]) {
    const ref = await trainAll(false, arrayForm);
    const got = await trainAll(true, arrayForm);
    assert.equal(got.state.length, ref.state.length);
    for (const [i, w] of ref.weights.entries())
      assert.deepEqual(got.weights[i], w, `weight ${i} differs (arrayForm ${arrayForm})`);
    for (const [i, s] of ref.state.entries()) {
      assert.equal(got.state[i].name, s.name);
      assert.deepEqual(got.state[i].v, s.v, `optimizer state ${s.name} differs`);
    }
    assert.deepEqual(got.inPlace, [true, true, true, true], "the fused path did not run");
    assert.deepEqual(ref.inPlace, [false, false, false, false]);
    // The weights moved (a test that would pass with a no-op update is no test).
    assert.notDeepEqual(ref.weights[0], values(3456, 11, 2));
  }
});

test("fusedAdam runs natively on owned float32 weights and declines shared ones", () => {
  registerFastCpuKernels();
  const v = tf.tidy(() =>
    tf.variable(tf.tensor1d(values(100, 3, 1)), true, `adam_direct_${run++}`),
  );
  const opt = tf.train.adam(0.1);
  const g = tf.onesLike(v);
  const before = v.dataSync().slice();
  assert.equal(fusedAdam(opt, { [v.name]: g }), true);
  assert.notDeepEqual(v.dataSync(), before);
  const view = tf.reshape(v, [10, 10]);
  assert.equal(fusedAdam(opt, { [v.name]: g }), false, "a weight shared with a live reshape");
  tf.dispose([v, g, view]);
  opt.dispose();
  unregisterFastCpuKernels();
});

test("with a weight's memory shared, the update falls back to tfjs's (still equal, the view unchanged)", async () => {
  const ref = await trainAll(false, false, 1);
  const got = await trainAll(true, false, 1);
  for (const [i, w] of ref.weights.entries()) assert.deepEqual(got.weights[i], w);
  assert.deepEqual(
    got.inPlace,
    [false, false, false, false],
    "a shared weight was updated in place",
  );
});
