import type * as TfModule from "@tensorflow/tfjs";

/** The tfjs namespace the caller passes in (this package never imports tfjs at run time). */
export type Tf = typeof TfModule;
export type KernelConfig = NonNullable<ReturnType<Tf["getKernel"]>>;
export type KernelFunc = KernelConfig["kernelFunc"];
export type TensorInfo = TfModule.TensorInfo;

/** The parts of tfjs's `cpu` backend (MathBackendCPU) that the kernels use. */
export interface CpuBackendLike {
  data: { get(dataId: unknown): { values?: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: "float32", values: Float32Array): TensorInfo;
}

/** The tfjs kernel names this package implements. */
export const KERNEL_NAMES = ["Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"] as const;
export type Conv3dKernelName = (typeof KERNEL_NAMES)[number];
