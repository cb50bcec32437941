/**
 * @lungflow/tfjs-conv3d-native: native (N-API, C++) 3D convolution kernels for
 * TensorFlow.js's `cpu` backend. `Conv3D`, `Conv3DBackpropInputV2` (conv3dTranspose) and
 * `Conv3DBackpropFilterV2` run as register-tiled FMA GEMMs (AVX-512, AVX2+FMA or portable
 * C++, chosen at run time) on a thread pool, reading and writing the backend's typed arrays
 * directly. The addon is compiled from source by `pnpm build` (node-gyp); where that failed,
 * registration reports `ok: false` and tfjs keeps its JS kernels.
 *
 * This package never imports tfjs: pass your `tf` namespace in.
 *
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import { registerNativeConv3d } from "@lungflow/tfjs-conv3d-native";
 * await tf.setBackend("cpu");
 * const s = registerNativeConv3d(tf, { threads: 2 });
 * console.error(s.ok ? `native conv3d: ${s.isa} x${s.threads}` : `JS conv3d: ${s.reason}`);
 * const y = tf.conv3d(x, w, 1, "same"); // runs natively
 * ```
 */
export {
  type NativeAdam,
  type NativeElementwise,
  type NativeMatMul,
  type NativeReduce,
  type NativeUnary,
  nativeElementwise,
} from "./elementwise.js";
export {
  type NativeConv3dOptions,
  type NativeConv3dStatus,
  registerNativeConv3d,
  unregisterNativeConv3d,
} from "./register-native-conv3d.js";
export { type Conv3dKernelName, KERNEL_NAMES } from "./tf-types.js";
