import { loadAddon } from "./load-addon.js";

/**
 * `fn(op, a, b, out, plan)`: out[r*n + j] = a[r*as0 + j*as1] OP b[r*bs0 + j*bs1] for r < M,
 * j < n, with `plan` = Int32Array [M, n, as0, as1, bs0, bs1] (as1, bs1 are 0 or 1) and
 * op 0 add, 1 sub, 2 mul, 3 div. Plain IEEE float32 arithmetic (results equal JS's
 * `Math.fround(a OP b)`), split across the thread pool that `registerNativeConv3d` sized.
 * Throws if the plan reads or writes outside the arrays.
 */
export type NativeElementwise = (
  op: number,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  plan: Int32Array,
) => void;

/**
 * `fn(op, x, out, alpha)`: float32 out[i] = f(x[i]) with op 0 relu (`Math.max(0, x)`), 1 step
 * (NaN stays NaN, x > 0 gives 1, else `alpha`), 2 sqrt, 3 neg, 4 square; same values as those JS
 * formulas rounded to float32. Split across the thread pool.
 */
export type NativeUnary = (op: number, x: Float32Array, out: Float32Array, alpha: number) => void;

/**
 * `fn(p, m, v, g, consts)`: one Adam step in place on float32 arrays of one length, consts =
 * Float32Array [b1, 1 - b1, b2, 1 - b2, 1 - b1^t, 1 - b2^t, eps, -lr]:
 * `m = m*b1 + g*(1-b1); v = v*b2 + (g*g)*(1-b2); p = ((m/(1-b1^t)) / (sqrt(v/(1-b2^t)) + eps)) * -lr + p`,
 * each operation rounded to float32 in that order: the bits of tfjs's `AdamOptimizer`
 * (whose ten tensor ops compute exactly this), in one pass over memory. Split across the
 * thread pool. Throws on arrays of different lengths.
 */
export type NativeAdam = (
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  consts: Float32Array,
) => void;

/**
 * `fn(op, x, acc, plan, scale)`: adds every element of `x`, in memory order, to its output's
 * double accumulator in `acc` (op 0 Sum; op 1 Mean: `x / scale` rounded to float32 first),
 * over the loop nest `plan` = Int32Array [k, dims[k], reduced[k] (0/1), os[k]] (outermost loop
 * first; os = output stride of a kept loop, 0 for a reduced one): `@lungflow/tf-runtime`'s
 * reduce plan, the same sums bit for bit. One thread. Throws on a plan that does not match.
 */
export type NativeReduce = (
  op: number,
  x: Float32Array,
  acc: Float64Array,
  plan: Int32Array,
  scale: number,
) => void;

/**
 * `fn(a, b, out, dims)`: tfjs's cpu BatchMatMul on float32, dims = Int32Array [batch, batchA,
 * batchB, M, N, K, aBatch, aOuter, aInner, bInner, bOuter, bBatch, blockSize] (tfjs's strides
 * of the rank-3 views); `out` ([batch, M, N], zero-filled) gets tfjs's bits: per k-block the
 * double sum of the products, added to the float32 result. Rows split across the pool.
 * Throws when the dims read outside the arrays.
 */
export type NativeMatMul = (
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  dims: Int32Array,
) => void;

/**
 * The addon's element-wise arithmetic (for `@lungflow/tf-runtime`'s fast kernels, its Sum/Mean,
 * BatchMatMul and fused Adam update; `adam`, `reduce`, `matmul` are absent from older builds), or undefined when the addon is not
 * built or lacks it.
 */
export function nativeElementwise():
  | {
      binary: NativeElementwise;
      unary: NativeUnary;
      adam?: NativeAdam;
      reduce?: NativeReduce;
      matmul?: NativeMatMul;
    }
  | undefined {
  const r = loadAddon();
  if (!("addon" in r)) return undefined;
  const { addon } = r;
  if (typeof addon.elementwise !== "function" || typeof addon.unary !== "function")
    return undefined;
  return {
    binary: addon.elementwise.bind(addon),
    unary: addon.unary.bind(addon),
    ...(typeof addon.adam === "function" ? { adam: addon.adam.bind(addon) } : {}),
    ...(typeof addon.reduce === "function" ? { reduce: addon.reduce.bind(addon) } : {}),
    ...(typeof addon.matmul === "function" ? { matmul: addon.matmul.bind(addon) } : {}),
  };
}
