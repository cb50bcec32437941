/**
 * float32 BatchMatMul and _FusedMatMul (the dense layers) in the native addon.
 *
 * tfjs's `cpu` BatchMatMul is a JS triple loop: the dense heads of the GMCAE and classifier
 * (e.g. [4, 1024] x [1024, 128] and its two gradients) spend milliseconds a step in it.
 * The addon runs the same loop (per k-block of `backend.blockSize`, the products summed in
 * double, then added to the float32 result), so the results are tfjs's bits. _FusedMatMul is
 * tfjs's composition (matmul, then the bias Add, then the activation) with the fast Add and
 * Relu, which equal tfjs's; other activations and PReLU weights go to tfjs's kernel.
 */
import * as tf from "@tensorflow/tfjs";
import {
  type CpuBackend,
  type FastKernel,
  f32,
  type KernelArgs,
  sizeOf,
  stridesOf,
  type TensorInfo,
} from "./common.js";
import { nativeFor } from "./native.js";

/** Output of `a x b` as tfjs computes it, or undefined (handed to tfjs). */
function matmul(
  backend: CpuBackend,
  a: TensorInfo | undefined,
  b: TensorInfo | undefined,
  transposeA: boolean,
  transposeB: boolean,
): TensorInfo | undefined {
  const av = f32(backend, a);
  const bv = f32(backend, b);
  if (!a || !b || !av || !bv || a.shape.length < 2 || b.shape.length < 2) return undefined;
  const native = nativeFor(Number.POSITIVE_INFINITY)?.matmul;
  if (native === undefined) return undefined;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const inner = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  if (inner !== (transposeB ? b.shape[rb - 1] : b.shape[rb - 2])) return undefined;
  const M = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const N = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  let outer: number[];
  try {
    outer = tf.broadcast_util.assertAndGetBroadcastShape(
      a.shape.slice(0, -2),
      b.shape.slice(0, -2),
    );
  } catch {
    return undefined; // tfjs throws its own error
  }
  const blockSize = (backend as unknown as { blockSize?: number }).blockSize;
  if (typeof blockSize !== "number" || blockSize < 1) return undefined;
  const batch = Math.max(batchA, batchB);
  // tfjs's rank-3 views [batch, rows, cols] and the steps it reads them with.
  const as = stridesOf(transposeA ? [batchA, inner, M] : [batchA, M, inner]);
  const bs = stridesOf(transposeB ? [batchB, N, inner] : [batchB, inner, N]);
  const [aBatch, aOuter, aInner] = transposeA ? [as[0], 1, as[1]] : [as[0], as[1], 1];
  const [bInner, bOuter, bBatch] = transposeB ? [1, bs[1], bs[0]] : [bs[1], 1, bs[0]];
  const out = new Float32Array(batch * M * N);
  if (batch > 0 && batchA > 0 && batchB > 0) {
    native(
      av,
      bv,
      out,
      Int32Array.of(
        batch,
        batchA,
        batchB,
        M,
        N,
        inner,
        aBatch,
        aOuter,
        aInner,
        bInner,
        bOuter,
        bBatch,
        blockSize,
      ),
    );
  }
  return backend.makeTensorInfo([...outer, M, N], "float32", out);
}

const batchMatMul: FastKernel = ({ inputs, backend, attrs }: KernelArgs) => {
  const { a, b } = inputs as Record<string, TensorInfo | undefined>;
  return matmul(backend, a, b, Boolean(attrs?.transposeA), Boolean(attrs?.transposeB));
};

/** tfjs's _FusedMatMul with the fast Add and Relu (`kernels` supplies them). */
function fusedMatMul(kernels: () => Record<string, FastKernel>): FastKernel {
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const { a, b, bias, preluActivationWeights } = inputs as Record<string, TensorInfo | undefined>;
    const activation = attrs?.activation as string | undefined;
    if (preluActivationWeights !== undefined) return undefined;
    if (activation !== undefined && activation !== "linear" && activation !== "relu")
      return undefined;
    if (bias !== undefined && !f32(backend, bias)) return undefined;
    const dispose = (t: TensorInfo) =>
      (
        backend as unknown as { disposeIntermediateTensorInfo(t: TensorInfo): void }
      ).disposeIntermediateTensorInfo(t);
    let current = matmul(backend, a, b, Boolean(attrs?.transposeA), Boolean(attrs?.transposeB));
    if (current === undefined) return undefined;
    const k = kernels();
    const steps: [string, Record<string, TensorInfo>][] = [];
    if (bias !== undefined) steps.push(["Add", { b: bias }]);
    if (activation === "relu") steps.push(["Relu", {}]);
    for (const [name, rest] of steps) {
      const input = name === "Add" ? { a: current, ...rest } : { x: current };
      const next = k[name]?.({ inputs: input, backend, attrs: {} }) as TensorInfo | undefined;
      dispose(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return current;
  };
}

/** The matmul fast kernels by tfjs kernel name (`kernels`: the whole fast table). */
export function matMulKernels(
  kernels: () => Record<string, FastKernel>,
): Record<string, FastKernel> {
  return { BatchMatMul: batchMatMul, _FusedMatMul: fusedMatMul(kernels) };
}
