/**
 * Optional native arithmetic for the large element-wise kernels: `@lungflow/tfjs-conv3d-native`'s
 * multi-threaded float32 `a OP b` and relu/step/sqrt/neg/square (set by `loadNativeConv3d` when that
 * addon loads; the function types are that package's). Same values as the JS loops (IEEE float32
 * + - * / and sqrt are correctly rounded, as JS's double result rounded to float32 is); used for
 * tensors of at least 32768 elements (binary ops: whose broadcast plan has at most two loops).
 */
import type {
  NativeAdam,
  NativeElementwise,
  NativeMatMul,
  NativeReduce,
  NativeUnary,
} from "@lungflow/tfjs-conv3d-native";

export type { NativeAdam, NativeElementwise, NativeMatMul, NativeReduce, NativeUnary };

export interface NativeOps {
  binary: NativeElementwise;
  unary: NativeUnary;
  /** The fused Adam step (`fast-adam.ts`); absent from older addon builds. */
  adam?: NativeAdam;
  /** Sum / Mean over a reduce plan (`reduce.ts`); absent from older addon builds. */
  reduce?: NativeReduce;
  /** tfjs's BatchMatMul (`matmul.ts`); absent from older addon builds. */
  matmul?: NativeMatMul;
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
