/** Types and helpers shared by the fast `cpu` kernels. */

/** What tfjs hands a kernel for a tensor. */
export interface TensorInfo {
  dataId: object;
  shape: number[];
  dtype: string;
}

/** The part of tfjs's `MathBackendCPU` the fast kernels use. */
export interface CpuBackend {
  data: { get(id: object): { values?: unknown } };
  makeTensorInfo(shape: number[], dtype: string, values: ArrayLike<number>): TensorInfo;
}

export interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined> | TensorInfo[];
  backend: CpuBackend;
  attrs?: Record<string, unknown>;
}

/**
 * A fast kernel: returns its result, or `undefined` to hand the call to tfjs's own kernel
 * unchanged (a dtype, layout or attribute it does not cover).
 */
export type FastKernel = (args: KernelArgs) => TensorInfo | TensorInfo[] | undefined;

/** Typed arrays the fast kernels read and write (tfjs's numeric dtypes). */
export type NumArray = Float32Array | Int32Array | Uint8Array;

export const sizeOf = (s: readonly number[]): number => {
  let n = 1;
  for (const d of s) n *= d;
  return n;
};

/** Row-major strides of a shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = s;
    s *= shape[i];
  }
  return st;
}

/** The values of a float32 tensor, if they are a plain Float32Array (else undefined). */
export function f32(be: CpuBackend, t: TensorInfo | undefined): Float32Array | undefined {
  if (t === undefined || t.dtype !== "float32") return undefined;
  const v = be.data.get(t.dataId)?.values;
  if (v instanceof Float32Array) return v;
  // tfjs's Cast from bool or int32 to float32 keeps the Uint8Array / Int32Array (same
  // dataId). Their values convert to float32 exactly (int32: when |v| <= 2^24).
  if (v instanceof Uint8Array) return Float32Array.from(v);
  if (v instanceof Int32Array) {
    for (let i = 0; i < v.length; i++) if (v[i] > 16777216 || v[i] < -16777216) return undefined;
    return Float32Array.from(v);
  }
  return undefined;
}

/** The values of a float32, int32 or bool tensor (tfjs stores bool as Uint8Array). */
export function numeric(be: CpuBackend, t: TensorInfo | undefined): NumArray | undefined {
  if (t === undefined) return undefined;
  const v = be.data.get(t.dataId)?.values;
  if (t.dtype === "float32") return v instanceof Float32Array ? v : undefined;
  if (t.dtype === "int32") return v instanceof Int32Array ? v : undefined;
  if (t.dtype === "bool") return v instanceof Uint8Array ? v : undefined;
  return undefined;
}

/** A new zeroed typed array of the same kind as `like`. */
export function alloc(like: NumArray, n: number): NumArray {
  if (like instanceof Float32Array) return new Float32Array(n);
  if (like instanceof Int32Array) return new Int32Array(n);
  return new Uint8Array(n);
}

/** Normalises an axis attribute (number, list or undefined = all) to sorted positive axes. */
export function parseAxes(raw: unknown, rank: number): number[] | undefined {
  if (raw === undefined || raw === null) return Array.from({ length: rank }, (_, i) => i);
  const list = Array.isArray(raw) ? raw : [raw];
  const out: number[] = [];
  for (const a of list) {
    if (typeof a !== "number" || !Number.isInteger(a) || a < -rank || a >= rank) return undefined;
    const p = a < 0 ? a + rank : a;
    if (!out.includes(p)) out.push(p);
  }
  return out.sort((x, y) => x - y);
}

/**
 * Compiles a generated loop. Each op gets its own function (so V8 inlines its arithmetic
 * instead of calling a shared closure), named `lungflow-fast/<name>` in profiles.
 */
export function compile<F>(name: string, params: string[], body: string): F {
  return new Function(...params, `${body}\n//# sourceURL=lungflow-fast/${name}.js`) as F;
}
