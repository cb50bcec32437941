import * as tf from "@tensorflow/tfjs";

type KernelConfig = NonNullable<ReturnType<typeof tf.getKernel>>;
type TensorInfo = { dataId: object; shape: number[]; dtype: string };
type CpuBackend = {
  data: { get(id: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: Float32Array): TensorInfo;
};

const originals = new Map<string, KernelConfig>();
let active = false;

const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** `b` broadcasts only along the last axis of `a` (a per-channel bias): returns C, else 0. */
function channelBroadcast(a: TensorInfo, b: TensorInfo): number {
  if (a.shape.length < 2 || b.shape.length > a.shape.length) return 0;
  const c = a.shape[a.shape.length - 1];
  if (size(b.shape) !== c || b.shape[b.shape.length - 1] !== c) return 0;
  return c;
}

function fastAdd(args: { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: unknown }) {
  const { a, b } = args.inputs;
  const be = args.backend as CpuBackend;
  if (a.dtype === "float32" && b.dtype === "float32") {
    for (const [big, bias] of [
      [a, b],
      [b, a],
    ] as const) {
      const c = channelBroadcast(big, bias);
      if (c > 0 && size(big.shape) !== c) {
        const x = be.data.get(big.dataId).values as Float32Array;
        const v = be.data.get(bias.dataId).values as Float32Array;
        const out = new Float32Array(x.length);
        for (let i = 0; i < x.length; i += c) {
          for (let j = 0; j < c; j++) out[i + j] = x[i + j] + v[j];
        }
        return be.makeTensorInfo(big.shape, "float32", out);
      }
    }
  }
  return originals.get("Add")!.kernelFunc(args as never);
}

function fastSum(args: {
  inputs: Record<string, TensorInfo>;
  backend: unknown;
  attrs?: Record<string, unknown>;
}) {
  const { x } = args.inputs;
  const r = x.shape.length;
  const raw = args.attrs?.axis as number | number[] | undefined;
  const axes =
    raw === undefined ? [] : (Array.isArray(raw) ? raw : [raw]).map((a) => (a < 0 ? a + r : a));
  // Reduce every axis but the last (a bias gradient; axes of size 1 may be left out):
  // sum the rows of an [N, C] view.
  const reduced = new Set(axes);
  const kept = x.shape.map((_, i) => i).filter((i) => !reduced.has(i));
  if (
    x.dtype === "float32" &&
    r >= 2 &&
    axes.length > 0 &&
    !reduced.has(r - 1) &&
    kept.every((i) => i === r - 1 || x.shape[i] === 1)
  ) {
    const be = args.backend as CpuBackend;
    const c = x.shape[r - 1];
    const v = be.data.get(x.dataId).values as Float32Array;
    const acc = new Float64Array(c);
    for (let i = 0; i < v.length; i += c) {
      for (let j = 0; j < c; j++) acc[j] += v[i + j];
    }
    const shape = args.attrs?.keepDims
      ? x.shape.map((n, i) => (reduced.has(i) ? 1 : n))
      : kept.map((i) => x.shape[i]);
    return be.makeTensorInfo(shape, "float32", Float32Array.from(acc));
  }
  return originals.get("Sum")!.kernelFunc(args as never);
}

/**
 * Fast paths on tfjs's `cpu` backend for the two ops that dominate a GMCAE step once the
 * convolutions are fast: adding a per-channel bias (tfjs's broadcasting Add walks every
 * element through index arithmetic) and its gradient, the sum over all axes but the last
 * (tfjs transposes first). Every other case goes to tfjs's own kernel. Idempotent.
 */
export function registerFastCpuKernels(): void {
  if (active) return;
  for (const [name, fn] of [
    ["Add", fastAdd],
    ["Sum", fastSum],
  ] as const) {
    const orig = tf.getKernel(name, "cpu");
    if (!orig) continue;
    originals.set(name, orig);
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel({ ...orig, kernelFunc: fn as unknown as KernelConfig["kernelFunc"] });
  }
  active = true;
}

/** Restores tfjs's own Add and Sum kernels (for comparisons). */
export function unregisterFastCpuKernels(): void {
  if (!active) return;
  for (const [name, orig] of originals) {
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel(orig);
  }
  active = false;
}
