import path from "node:path";
import { fileURLToPath } from "node:url";
import { type AddonLoadResult, loadNativeAddon } from "@lungflow/patch-kernels/native-loader";

/** The addon's functions (native/addon.cc). Geometry: Int32Array of 18 ints, see `geometry`. */
export interface NativeAddon {
  forward(x: Float32Array, w: Float32Array, y: Float32Array, geom: Int32Array): void;
  backpropInput(dy: Float32Array, w: Float32Array, dx: Float32Array, geom: Int32Array): void;
  backpropFilter(x: Float32Array, dy: Float32Array, dw: Float32Array, geom: Int32Array): void;
  info(): { isa: string; threads: number; hardwareThreads: number; supported: string[] };
  setIsa(name: string): boolean;
  setThreads(n: number): number;
  /** float32 `out = a OP b` (op 0 add, 1 sub, 2 mul, 3 div), plan [M, n, as0, as1, bs0, bs1]. */
  elementwise?(
    op: number,
    a: Float32Array,
    b: Float32Array,
    out: Float32Array,
    plan: Int32Array,
  ): void;
  /** float32 `out = f(x)` (op 0 relu, 1 step with `alpha`, 2 sqrt, 3 neg, 4 square). */
  unary?(op: number, x: Float32Array, out: Float32Array, alpha: number): void;
  /** Sum / Mean over a reduce plan in double accumulators (see `NativeReduce`). */
  reduce?(op: number, x: Float32Array, acc: Float64Array, plan: Int32Array, scale: number): void;
  /** tfjs's BatchMatMul, the same bits (see `NativeMatMul`). */
  matmul?(a: Float32Array, b: Float32Array, out: Float32Array, dims: Int32Array): void;
  /** glibc's M_MMAP_THRESHOLD / M_TRIM_THRESHOLD in bytes; false where not applied. */
  keepHeap?(mmapThreshold: number, trimThreshold: number): boolean;
  /** One fused Adam step in place (see `NativeAdam`). */
  adam?(
    p: Float32Array,
    m: Float32Array,
    v: Float32Array,
    g: Float32Array,
    consts: Float32Array,
  ): void;
}

export type LoadResult = AddonLoadResult<NativeAddon>;

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Where `pnpm build` puts the addon (node-gyp's Release build). */
export const defaultAddonPath = path.join(packageRoot, "build", "Release", "conv3d_native.node");

/**
 * Loads the compiled addon once per path. Never throws: a missing or broken binary gives
 * `{ error }` naming the file and why (see `loadNativeAddon`).
 */
export function loadAddon(file: string = defaultAddonPath): LoadResult {
  return loadNativeAddon<NativeAddon>(file, "@lungflow/tfjs-conv3d-native");
}
