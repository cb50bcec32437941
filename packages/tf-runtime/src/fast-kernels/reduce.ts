/**
 * float32 reductions over any set of axes: Sum, Mean, Max, Min.
 *
 * tfjs's `cpu` kernels first transpose the reduced axes innermost (an element-by-element
 * index conversion, as slow as its broadcasting ops) and then reduce rows. Here the input is
 * read once in memory order: size-1 axes are dropped, neighbouring axes that are both kept
 * or both reduced are merged, and each element is combined into its output's accumulator.
 *
 * Numbers are identical to tfjs's: every output combines its inputs in the same order
 * (increasing flat index) in double precision (Sum, Mean) and is stored once as float32.
 * Mean divides each element by the count in float32 first, as tfjs's does. Large Sum and Mean
 * run the same loop in the native addon when it is loaded (`NativeOps.reduce`).
 */
import {
  compile,
  type FastKernel,
  f32,
  type KernelArgs,
  parseAxes,
  type TensorInfo,
} from "./common.js";
import { nativeFor } from "./native.js";

/** A reduction as nested loops `dims` (outermost first), `reduced[k]` per loop. */
export interface ReducePlan {
  dims: number[];
  reduced: boolean[];
  /** Output element stride of each loop (0 for reduced loops). */
  os: number[];
  outSize: number;
}

/** Plans a reduction of `shape` over the (sorted, unique) `axes`. */
export function reducePlan(shape: readonly number[], axes: readonly number[]): ReducePlan {
  const dims: number[] = [];
  const reduced: boolean[] = [];
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    if (d === 1) continue;
    const r = axes.includes(i);
    const k = dims.length - 1;
    if (k >= 0 && reduced[k] === r) dims[k] *= d;
    else {
      dims.push(d);
      reduced.push(r);
    }
  }
  if (dims.length === 0) {
    dims.push(1);
    reduced.push(false);
  }
  const os = new Array<number>(dims.length);
  let s = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    os[k] = reduced[k] ? 0 : s;
    if (!reduced[k]) s *= dims[k];
  }
  return { dims, reduced, os, outSize: s };
}

type ReduceLoop = (
  X: Float32Array,
  acc: Float64Array,
  dims: number[],
  reduced: boolean[],
  os: number[],
  scale: number,
) => void;

/**
 * A loop nest that folds every input element `v` (= LOAD of `x`) into `acc[o]` with COMBINE
 * (`s` is the accumulator), in memory order.
 */
function reduceLoop(name: string, load: string, combine: string): ReduceLoop {
  const body = `
    const k = dims.length, n = dims[k - 1], innerReduced = reduced[k - 1], total = X.length;
    const idx = new Int32Array(k);
    let oo = 0;
    for (let i = 0; i < total; i += n) {
      if (innerReduced) {
        let s = acc[oo];
        for (let j = 0; j < n; j++) { const x = X[i + j]; const v = ${load}; ${combine} }
        acc[oo] = s;
      } else {
        for (let j = 0; j < n; j++) {
          const x = X[i + j]; const v = ${load}; let s = acc[oo + j]; ${combine} acc[oo + j] = s;
        }
      }
      for (let d = k - 2; d >= 0; d--) {
        oo += os[d];
        if (++idx[d] < dims[d]) break;
        oo -= os[d] * dims[d]; idx[d] = 0;
      }
    }`;
  return compile<ReduceLoop>(name, ["X", "acc", "dims", "reduced", "os", "scale"], body);
}

function reduceKernel(
  name: string,
  axisAttr: string,
  load: string,
  combine: string,
  init: number,
  mean: boolean,
): FastKernel {
  const loop = reduceLoop(name, load, combine);
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const { x } = inputs as Record<string, TensorInfo | undefined>;
    const xv = f32(backend, x);
    if (!xv || !x || xv.length === 0) return undefined;
    const r = x.shape.length;
    const axes = parseAxes(attrs?.[axisAttr], r);
    if (!axes || axes.length === 0) return undefined;
    const plan = reducePlan(x.shape, axes);
    const acc = new Float64Array(plan.outSize);
    if (init !== 0) acc.fill(init);
    // Mean: tfjs divides by the count as a float32 scalar.
    const count = Math.fround(axes.reduce((p, a) => p * x.shape[a], 1));
    // Sum and Mean of large tensors: the same loop in the addon (same order, same bits).
    const native = init === 0 ? nativeFor(xv.length)?.reduce : undefined;
    if (native !== undefined && plan.dims.length <= 16) {
      const k = plan.dims.length;
      const p = new Int32Array(1 + 3 * k);
      p[0] = k;
      for (let d = 0; d < k; d++) {
        p[1 + d] = plan.dims[d];
        p[1 + k + d] = plan.reduced[d] ? 1 : 0;
        p[1 + 2 * k + d] = plan.os[d];
      }
      native(mean ? 1 : 0, xv, acc, p, mean ? count : 1);
    } else loop(xv, acc, plan.dims, plan.reduced, plan.os, mean ? count : 1);
    const shape = attrs?.keepDims
      ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d))
      : x.shape.filter((_, i) => !axes.includes(i));
    return backend.makeTensorInfo(shape, "float32", Float32Array.from(acc));
  };
}

/** The reduction fast kernels by tfjs kernel name. */
export function reduceKernels(): Record<string, FastKernel> {
  return {
    Sum: reduceKernel("Sum", "axis", "x", "s += v;", 0, false),
    Mean: reduceKernel("Mean", "axis", "Math.fround(x / scale)", "s += v;", 0, true),
    Max: reduceKernel(
      "Max",
      "reductionIndices",
      "x",
      "if (v > s || v !== v) s = v;",
      -Infinity,
      false,
    ),
    Min: reduceKernel("Min", "axis", "x", "if (v < s || v !== v) s = v;", Infinity, false),
  };
}
