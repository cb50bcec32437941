/**
 * Element-wise float32 kernels: binary ops with NumPy broadcasting and unary ops.
 *
 * tfjs's `cpu` kernels run every element through one shared loop that calls the op as a
 * closure (megamorphic: not inlined), and a broadcasting binary op (a bias, a scalar, a
 * [B, c, 1] - [B, c, m] difference) converts every output index to coordinates and back
 * (`indexToLoc`/`locToIndex`, allocating arrays per element): 20-150 ns per element. Here
 * every op gets its own generated loop (so V8 inlines the arithmetic), and broadcasting is
 * planned once per call: size-1 axes are dropped and neighbouring axes that broadcast the
 * same way are merged, leaving a few (often one) loops with constant strides.
 *
 * Numbers are identical to tfjs's: the same expression is evaluated on the same doubles and
 * stored into a Float32Array (one rounding), e.g. `Math.max(0, x)` for Relu, `-1 * x` for Neg.
 */
import {
  type CpuBackend,
  compile,
  type FastKernel,
  f32,
  type KernelArgs,
  type TensorInfo,
} from "./common.js";
import { nativeFor } from "./native.js";

/**
 * Broadcast plan of two shapes: the output shape, and the output as nested loops `dims`
 * (outermost first) with the element strides of `a` and `b` in each (0 = broadcast).
 */
export interface BroadcastPlan {
  outShape: number[];
  dims: number[];
  as: number[];
  bs: number[];
}

/** Plans `a op b` with NumPy broadcasting; undefined for incompatible or empty shapes. */
export function broadcastPlan(
  a: readonly number[],
  b: readonly number[],
): BroadcastPlan | undefined {
  const r = Math.max(a.length, b.length);
  const outShape: number[] = [];
  const dims: number[] = [];
  const fa: boolean[] = [];
  const fb: boolean[] = [];
  for (let i = 0; i < r; i++) {
    const da = i < r - a.length ? 1 : a[i - (r - a.length)];
    const db = i < r - b.length ? 1 : b[i - (r - b.length)];
    if (da === 0 || db === 0) return undefined;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    const d = da === 1 ? db : da;
    outShape.push(d);
    if (d === 1) continue;
    const ia = da === d;
    const ib = db === d;
    const k = dims.length - 1;
    if (k >= 0 && fa[k] === ia && fb[k] === ib) {
      dims[k] *= d;
    } else {
      dims.push(d);
      fa.push(ia);
      fb.push(ib);
    }
  }
  if (dims.length === 0) return { outShape, dims: [1], as: [0], bs: [0] };
  const as = new Array<number>(dims.length);
  const bs = new Array<number>(dims.length);
  let sa = 1;
  let sb = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    as[k] = fa[k] ? sa : 0;
    bs[k] = fb[k] ? sb : 0;
    if (fa[k]) sa *= dims[k];
    if (fb[k]) sb *= dims[k];
  }
  return { outShape, dims, as, bs };
}

type BinaryLoop = (
  A: Float32Array,
  B: Float32Array,
  O: Float32Array | Uint8Array,
  dims: number[],
  as: number[],
  bs: number[],
) => void;

/** The loop nest of one binary op. */
function binaryLoop(name: string, expr: string): BinaryLoop {
  const body = `
    const k = dims.length, n = dims[k - 1], sa = as[k - 1], sb = bs[k - 1], total = O.length;
    const idx = new Int32Array(k);
    let ao = 0, bo = 0;
    for (let o = 0; o < total; o += n) {
      if (sa === 1 && sb === 1) {
        for (let j = 0; j < n; j++) { const a = A[ao + j], b = B[bo + j]; O[o + j] = ${expr}; }
      } else if (sa === 1) {
        const b = B[bo];
        for (let j = 0; j < n; j++) { const a = A[ao + j]; O[o + j] = ${expr}; }
      } else if (sb === 1) {
        const a = A[ao];
        for (let j = 0; j < n; j++) { const b = B[bo + j]; O[o + j] = ${expr}; }
      } else {
        const a = A[ao], b = B[bo], v = ${expr};
        for (let j = 0; j < n; j++) O[o + j] = v;
      }
      for (let d = k - 2; d >= 0; d--) {
        ao += as[d]; bo += bs[d];
        if (++idx[d] < dims[d]) break;
        ao -= as[d] * dims[d]; bo -= bs[d] * dims[d]; idx[d] = 0;
      }
    }`;
  return compile<BinaryLoop>(name, ["A", "B", "O", "dims", "as", "bs"], body);
}

/** Opcodes of the native element-wise arithmetic. */
const NATIVE_OP: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

/** tfjs's float32 formula of each binary kernel, and whether it outputs bool. */
const BINARY: Record<string, [expr: string, bool: boolean]> = {
  Add: ["a + b", false],
  Sub: ["a - b", false],
  Multiply: ["a * b", false],
  RealDiv: ["a / b", false],
  Maximum: ["Math.max(a, b)", false],
  Minimum: ["Math.min(a, b)", false],
  SquaredDifference: ["(a - b) * (a - b)", false],
  Equal: ["(a === b) ? 1 : 0", true],
  NotEqual: ["(a !== b) ? 1 : 0", true],
  Greater: ["(a > b) ? 1 : 0", true],
  GreaterEqual: ["(a >= b) ? 1 : 0", true],
  Less: ["(a < b) ? 1 : 0", true],
  LessEqual: ["(a <= b) ? 1 : 0", true],
};

function binaryKernel(name: string, expr: string, bool: boolean): FastKernel {
  const loop = binaryLoop(name, expr);
  const opcode = NATIVE_OP[name];
  return ({ inputs, backend }: KernelArgs) => {
    const { a, b } = inputs as Record<string, TensorInfo | undefined>;
    const be = backend as CpuBackend;
    const av = f32(be, a);
    const bv = f32(be, b);
    if (!av || !bv || !a || !b) return undefined;
    const plan = broadcastPlan(a.shape, b.shape);
    if (!plan) return undefined;
    const n = plan.dims.reduce((x, y) => x * y, 1);
    const out = bool ? new Uint8Array(n) : new Float32Array(n);
    const native = opcode !== undefined && plan.dims.length <= 2 ? nativeFor(n) : undefined;
    if (native) {
      const { dims, as, bs } = plan;
      const p =
        dims.length === 1
          ? [1, dims[0], 0, as[0], 0, bs[0]]
          : [dims[0], dims[1], as[0], as[1], bs[0], bs[1]];
      native.binary(opcode as number, av, bv, out as Float32Array, Int32Array.from(p));
    } else loop(av, bv, out, plan.dims, plan.as, plan.bs);
    return be.makeTensorInfo(plan.outShape, bool ? "bool" : "float32", out);
  };
}

type UnaryLoop = (X: Float32Array, O: Float32Array) => void;

/** tfjs's float32 formula of each unary kernel. */
const UNARY: Record<string, string> = {
  Relu6: "Math.min(Math.max(0, x), 6)",
  Exp: "Math.exp(x)",
  Log: "Math.log(x)",
  Log1p: "Math.log1p(x)",
  Neg: "-1 * x",
  Sqrt: "Math.sqrt(x)",
  Square: "x * x",
  Rsqrt: "1 / Math.sqrt(x)",
  Reciprocal: "1 / x",
  Sigmoid: "1 / (1 + Math.exp(-x))",
  Tanh: "Math.tanh(x)",
  Elu: "x >= 0 ? x : (Math.exp(x) - 1)",
};

/**
 * Relu and Step on the float32 bit patterns (Int32Array views), without data-dependent
 * branches: `Math.max(0, x)` and `x > 0 ? 1 : alpha` compile to branches that mispredict
 * on activations of mixed sign (4-5x slower). NaN keeps NaN (the one rarely taken branch).
 * Same values as tfjs's formulas for every input, -0, ±Infinity and NaN included.
 */
const BITWISE: Record<string, string> = {
  Relu: `for (let i = 0, n = X.length; i < n; i++) {
      const b = X[i]; let r = b & ~(b >> 31);
      if ((b & 0x7fffffff) > 0x7f800000) r = b;
      O[i] = r;
    }`,
  // pos = 1 iff the sign bit is clear and the bits are not all zero (x > 0, or NaN).
  Step: `for (let i = 0, n = X.length; i < n; i++) {
      const b = X[i]; const m = -(((b | -b) >>> 31) & ~(b >>> 31));
      let r = (m & 0x3f800000) | (~m & alpha);
      if ((b & 0x7fffffff) > 0x7f800000) r = 0x7fc00000;
      O[i] = r;
    }`,
};

/** Opcodes of the native unary ops. */
const NATIVE_UNARY: Record<string, number> = { Relu: 0, Step: 1, Sqrt: 2, Neg: 3, Square: 4 };

function bitwiseKernel(name: string, body: string): FastKernel {
  const opcode = NATIVE_UNARY[name];
  const loop = compile<(X: Int32Array, O: Int32Array, alpha: number) => void>(
    name,
    ["X", "O", "alpha"],
    body,
  );
  return ({ inputs, backend, attrs }: KernelArgs) => {
    const { x } = inputs as Record<string, TensorInfo | undefined>;
    const xv = f32(backend, x);
    if (!xv || !x) return undefined;
    const out = new Float32Array(xv.length);
    const native = opcode !== undefined ? nativeFor(xv.length) : undefined;
    // Step's alpha as tfjs stores it: rounded to float32 (absent: NaN).
    const alpha32 = Float32Array.of(attrs?.alpha as number);
    if (native) native.unary(opcode, xv, out, alpha32[0]);
    else {
      const alpha = new Int32Array(alpha32.buffer)[0];
      loop(new Int32Array(xv.buffer, xv.byteOffset, xv.length), new Int32Array(out.buffer), alpha);
    }
    return backend.makeTensorInfo(x.shape, "float32", out);
  };
}

function unaryKernel(name: string, expr: string): FastKernel {
  const opcode = NATIVE_UNARY[name];
  const loop = compile<UnaryLoop>(
    name,
    ["X", "O"],
    `for (let i = 0, n = X.length; i < n; i++) { const x = X[i]; O[i] = ${expr}; }`,
  );
  return ({ inputs, backend }: KernelArgs) => {
    const { x } = inputs as Record<string, TensorInfo | undefined>;
    const xv = f32(backend, x);
    if (!xv || !x) return undefined;
    const out = new Float32Array(xv.length);
    const native = opcode !== undefined ? nativeFor(xv.length) : undefined;
    if (native) native.unary(opcode, xv, out, 0);
    else loop(xv, out);
    return backend.makeTensorInfo(x.shape, "float32", out);
  };
}

/** The element-wise fast kernels by tfjs kernel name. */
export function elementwiseKernels(): Record<string, FastKernel> {
  const out: Record<string, FastKernel> = {};
  for (const [name, [expr, bool]] of Object.entries(BINARY))
    out[name] = binaryKernel(name, expr, bool);
  for (const [name, expr] of Object.entries(UNARY)) out[name] = unaryKernel(name, expr);
  for (const [name, body] of Object.entries(BITWISE)) out[name] = bitwiseKernel(name, body);
  return out;
}
