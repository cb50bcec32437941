/**
 * Optional native arithmetic for the large element-wise kernels: `@lungflow/tfjs-conv3d-native`'s
 * multi-threaded float32 `a OP b` and relu/step/sqrt/neg/square (set by `loadNativeConv3d` when that
 * addon loads). Same values as the JS loops (IEEE float32 + - * / and sqrt are correctly
 * rounded, as JS's double result rounded to float32 is); used for tensors of at least
 * 32768 elements (binary ops: whose broadcast plan has at most two loops).
 */
export type NativeElementwise = (
  op: number,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  plan: Int32Array,
) => void;

/** float32 out[i] = f(x[i]): op 0 relu, 1 step (alpha), 2 sqrt, 3 neg, 4 square. */
export type NativeUnary = (op: number, x: Float32Array, out: Float32Array, alpha: number) => void;

export interface NativeOps {
  binary: NativeElementwise;
  unary: NativeUnary;
}

let fn: NativeOps | undefined;
let minSize = 32768;

/** Installs (or with undefined removes) the native element-wise functions. */
export function setNativeElementwise(f: NativeOps | undefined): void {
  fn = f;
}

/** Smallest output size sent to the native code (tests set 1 to send everything). */
export function setNativeMinSize(n: number): void {
  minSize = n;
}

/** The native functions when they are installed and `n` is large enough. */
export function nativeFor(n: number): NativeOps | undefined {
  return fn !== undefined && n >= minSize ? fn : undefined;
}
