/**
 * @lungflow/tf-runtime: the one place that imports TensorFlow.js (work in progress:
 * backend choice, gradient registration and save/load come with the gmcae issue).
 */
import * as tf from "@tensorflow/tfjs";

export { tf };
