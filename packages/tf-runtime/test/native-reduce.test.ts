/**
 * Sum and Mean in the native addon (`NativeOps.reduce`) against tfjs's own kernels: every
 * axis set of several shapes, NaN/±Infinity mixed in, long sums; the same bits.
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { nativeElementwise } from "@lungflow/tfjs-conv3d-native";
import {
  registerFastCpuKernels,
  setNativeElementwise,
  setNativeMinSize,
  unregisterFastCpuKernels,
} from "../src/fast-kernels/index.ts";
import { initTf, tf } from "../src/index.ts";

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});

function values(n: number, seed: number, specials: boolean): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  const sp = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0];
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 4294967296;
    a[i] = specials && u < 0.02 ? sp[i % 4] : (u - 0.5) * 6;
  }
  return a;
}

/** Every value Object.is-equal (NaN = NaN whatever its payload, +0 != -0). */
function same(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++)
    if (!Object.is(got[i], want[i])) assert.fail(`${what}: [${i}] ${got[i]} != ${want[i]}`);
}

function subsets(r: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << r; m++) out.push([...Array(r).keys()].filter((i) => m & (1 << i)));
  return out;
}

test("native Sum and Mean equal tfjs's bit for bit over every axis set", (t) => {
  const native = nativeElementwise();
  if (!native?.reduce) {
    t.skip("the tfjs-conv3d-native addon is not built");
    return;
  }
  const reduce = native.reduce;
  let calls = 0;
  setNativeElementwise({
    ...native,
    reduce: (...args) => {
      calls++;
      reduce(...args);
    },
  });
  setNativeMinSize(1);
  try {
    const shapes = [[7], [3, 5], [2, 3, 1, 5], [2, 3, 4, 5, 6], [4, 9, 9, 9, 8], [3, 20000, 5]];
    for (const [si, shape] of shapes.entries()) {
      for (const specials of [false, true]) {
        const n = shape.reduce((a, b) => a * b);
        const x = tf.tensor(values(n, 5 + si, specials), shape);
        for (const axes of subsets(shape.length)) {
          for (const op of ["sum", "mean"] as const) {
            unregisterFastCpuKernels();
            const ref = tf[op](x, axes, true);
            registerFastCpuKernels();
            const got = tf[op](x, axes, true);
            assert.deepEqual(got.shape, ref.shape);
            same(got.dataSync(), ref.dataSync(), `${op} ${shape} axes ${axes}`);
            tf.dispose([ref, got]);
          }
        }
        x.dispose();
      }
    }
    assert.ok(calls > 200, `native reduce taken ${calls} times`);
    const f = (k: number) => new Float32Array(k);
    assert.throws(() => reduce(0, f(10), new Float64Array(1), Int32Array.of(1, 11, 1, 0), 1));
    assert.throws(() =>
      reduce(0, f(10), new Float64Array(1), Int32Array.of(2, 2, 5, 0, 1, 1, 0), 1),
    );
    assert.throws(() => reduce(3, f(1), new Float64Array(1), Int32Array.of(1, 1, 1, 0), 1));
  } finally {
    setNativeMinSize(32768);
    setNativeElementwise(native);
    registerFastCpuKernels();
  }
});
