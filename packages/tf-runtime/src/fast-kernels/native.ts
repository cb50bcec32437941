/**
 * Optional native arithmetic for the large element-wise kernels: `@lungflow/tfjs-conv3d-native`'s
 * multi-threaded float32 `a OP b` (set by `loadNativeConv3d` when that addon loads). Same
 * values as the JS loops (IEEE float32 + - * / are correctly rounded, as JS's double result
 * rounded to float32 is); used for tensors of at least `nativeMinSize` elements whose
 * broadcast plan has at most two loops.
 */
export type NativeElementwise = (
  op: number,
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  plan: Int32Array,
) => void;

let fn: NativeElementwise | undefined;
let minSize = 32768;

/** Installs (or with undefined removes) the native element-wise function. */
export function setNativeElementwise(f: NativeElementwise | undefined): void {
  fn = f;
}

/** Smallest output size sent to the native code (tests set 1 to send everything). */
export function setNativeMinSize(n: number): void {
  minSize = n;
}

/** The native function when it is installed and `n` is large enough. */
export function nativeFor(n: number): NativeElementwise | undefined {
  return fn !== undefined && n >= minSize ? fn : undefined;
}
