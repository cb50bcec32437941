/**
 * @lungflow/patch-kernels: the kernels that turn a HU volume into training patches. One call
 * cuts a box, applies one of the 48 cube symmetries, adds a HU offset and normalises
 * (HU -1000 -> -1, 400 -> 1, optionally clipped) into a float32 batch. Three implementations
 * of the same arithmetic: plain JavaScript (`augmentInto`, any volume, any box), WebAssembly
 * SIMD on a volume copied into wasm memory with an air border (`augmentIntoWasm`, assembled
 * at load time: no toolchain) and a C++ addon with AVX2 (`augmentManyNative`, many patches
 * in one call, built by `pnpm build` with node-gyp). WASM and native give the same bits.
 * No dependency but `@lungflow/volume`: `@lungflow/pipeline`'s workers call these.
 *
 * ```ts
 * import { augmentIntoWasm, kernelNorm, wasmVolume } from "@lungflow/patch-kernels";
 * const w = wasmVolume(hu, shape, 32 ** 3); // null where wasm SIMD is missing
 * const out = new Float32Array(32 ** 3);
 * // symmetry 5, +10 HU, [-1000, 400] HU -> [-1, 1] clipped
 * augmentIntoWasm(w!, [10, 20, 30], [32, 32, 32], 5, 10, kernelNorm(-1000, 400, true), out, 0);
 * ```
 */
export { augmentInto } from "./augment-into.js";
export { augmentIntoWasm } from "./augment-into-wasm.js";
export { augmentManyNative, type PatchJob } from "./augment-many-native.js";
export { type KernelNorm, kernelNorm } from "./kernel-norm.js";
export type { NativePatchKernel, NativeStreamCopy } from "./native-addon.js";
export { nativeKernel, useNativeKernel } from "./native-kernel.js";
export { nativeStreamCopy, useNativeStreamCopy } from "./stream-copy.js";
export { type WasmVolume, wasmModule, wasmVolume } from "./wasm-volume.js";
