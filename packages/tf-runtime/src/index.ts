/**
 * @lungflow/tf-runtime: the one place that imports TensorFlow.js. Chooses the backend
 * (tfjs-node-gpu > tfjs-node > cpu, with optional native 3D conv kernels on cpu), registers
 * the missing `Conv3DBackpropInputV2` gradient, and saves/loads models to directories in
 * tfjs's own format without tfjs-node.
 *
 * ```ts
 * import { initTf, tf, saveModel, loadModel } from "@lungflow/tf-runtime";
 * await initTf(); // prints e.g. "lungflow: tfjs backend cpu (...)" to stderr
 * const y = tf.conv3dTranspose(x, w, [8, 8, 8, 4], 2, "same"); // trainable now
 * await saveModel(model, "runs/a/best");
 * ```
 */
import * as tf from "@tensorflow/tfjs";

export { isTfRuntimeErrorCode, TfRuntimeError } from "./errors.js";
export { registerFastCpuKernels, unregisterFastCpuKernels } from "./fast-kernels/index.js";
export {
  fileSystemIO,
  loadModel,
  loadTensors,
  type NamedTensor,
  saveModel,
  saveTensors,
} from "./fs-io.js";
export { registerConv3dGradients } from "./gradients.js";
export { type BackendChoice, type InitTfOptions, initTf, type TfInfo } from "./init-tf.js";
export { loadNativeConv3d, type NativeConv3dResult, useNativeConv3d } from "./native-conv3d.js";
export { tf };
