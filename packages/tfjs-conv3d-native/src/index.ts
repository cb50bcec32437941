/** @lungflow/tfjs-conv3d-native (work in progress) */
export {};
