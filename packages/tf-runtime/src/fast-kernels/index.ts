/**
 * Fast kernels for tfjs's `cpu` backend, registered over tfjs's own (which they equal: same
 * formulas, same float32 rounding, same summation order; see test/fast-kernels*.test.ts).
 * Each one handles the common dtypes and layouts and hands anything else (complex, string,
 * empty tensors, invalid attributes) to tfjs's kernel unchanged.
 *
 * - element-wise: Add, Sub, Multiply, RealDiv, Maximum, Minimum, SquaredDifference, the six
 *   comparisons (float32, with broadcasting); Relu, Relu6, Step, Exp, Log, Log1p, Neg, Sqrt,
 *   Rsqrt, Reciprocal, Sigmoid, Tanh, Elu, Square (float32)
 * - reductions over any axes: Sum, Mean, Max, Min (float32)
 * - data movement: Slice, SplitV, PadV2, Concat (float32, int32, bool)
 * - BatchMatMul, _FusedMatMul (float32; linear or relu, with or without bias): in the native
 *   addon when it is loaded, else tfjs's
 *
 * Large Add/Sub/Multiply/RealDiv/Relu/Step/Sqrt/Neg/Square run in the native addon's threads when it is loaded
 * (`setNativeElementwise`, called by `loadNativeConv3d`).
 *
 * With the kernels, `tf.train.adam`'s update is fused (`fast-adam.ts`: one native pass per
 * variable, the same bits) when the addon is loaded.
 */
import * as tf from "@tensorflow/tfjs";
import type { FastKernel, KernelArgs } from "./common.js";
import { copyKernels } from "./copy.js";
import { elementwiseKernels } from "./elementwise.js";
import { patchAdam, unpatchAdam } from "./fast-adam.js";

export { fusedAdam } from "./fast-adam.js";
export {
  type NativeAdam,
  type NativeElementwise,
  type NativeOps,
  type NativeUnary,
  setNativeElementwise,
  setNativeMinSize,
} from "./native.js";

import { matMulKernels } from "./matmul.js";
import { reduceKernels } from "./reduce.js";

type KernelConfig = NonNullable<ReturnType<typeof tf.getKernel>>;

let table: Record<string, FastKernel> | undefined;
const originals = new Map<string, KernelConfig>();

/** The fast kernel functions by name (tests call them directly to see which cases they take). */
export function fastKernels(): Record<string, FastKernel> {
  table ??= {
    ...elementwiseKernels(),
    ...reduceKernels(),
    ...copyKernels(),
    ...matMulKernels(fastKernels),
  };
  return table;
}

/** Names of the `cpu` kernels `registerFastCpuKernels` replaces. */
export function fastCpuKernelNames(): string[] {
  return Object.keys(fastKernels());
}

/**
 * Registers the fast kernels on tfjs's `cpu` backend in place of tfjs's own (kept, to hand
 * them the cases the fast ones do not cover and for `unregisterFastCpuKernels`). Idempotent.
 * `initTf` calls it on `cpu` unless `LUNGFLOW_FAST_KERNELS=0`.
 */
export function registerFastCpuKernels(): void {
  patchAdam();
  if (originals.size > 0) return;
  for (const [name, fast] of Object.entries(fastKernels())) {
    const orig = tf.getKernel(name, "cpu");
    if (!orig) continue;
    originals.set(name, orig);
    const kernelFunc = (args: KernelArgs) => fast(args) ?? orig.kernelFunc(args as never);
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel({ ...orig, kernelFunc: kernelFunc as unknown as KernelConfig["kernelFunc"] });
  }
}

/** Puts tfjs's own kernels back (for comparisons and benchmarks). */
export function unregisterFastCpuKernels(): void {
  unpatchAdam();
  for (const [name, orig] of originals) {
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel(orig);
  }
  originals.clear();
}

/** True while the fast kernels are registered. */
export function fastCpuKernelsActive(): boolean {
  return originals.size > 0;
}
