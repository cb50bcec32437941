import * as tf from "@tensorflow/tfjs";
import { type NativeOps, setNativeElementwise } from "./fast-kernels/index.js";

/** What `@lungflow/tfjs-conv3d-native`'s `registerNativeConv3d(tf)` reports. */
export interface NativeConv3dResult {
  ok: boolean;
  reason: string;
  isa?: string;
}

const KERNELS = ["Conv3D", "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2"] as const;
type KernelConfig = NonNullable<ReturnType<typeof tf.getKernel>>;

let loaded: Promise<NativeConv3dResult> | undefined;
const tfjsKernels = new Map<string, KernelConfig>();
const nativeKernels = new Map<string, KernelConfig>();

function swap(to: Map<string, KernelConfig>): void {
  for (const name of KERNELS) {
    const cfg = to.get(name);
    if (cfg === undefined) continue;
    if (tf.getKernel(name, "cpu") !== undefined) tf.unregisterKernel(name, "cpu");
    tf.registerKernel(cfg);
  }
}

/**
 * Loads `@lungflow/tfjs-conv3d-native` and calls its `registerNativeConv3d(tf)` (checked at
 * run time, so this works before that package exports it). Idempotent. Remembers tfjs's own
 * `cpu` kernels so `useNativeConv3d(false)` can switch back (benchmarks compare both).
 */
export function loadNativeConv3d(): Promise<NativeConv3dResult> {
  loaded ??= (async (): Promise<NativeConv3dResult> => {
    let mod: Record<string, unknown>;
    try {
      const spec = "@lungflow/tfjs-conv3d-native";
      mod = (await import(/* @vite-ignore */ spec)) as Record<string, unknown>;
    } catch (err) {
      return {
        ok: false,
        reason: `@lungflow/tfjs-conv3d-native did not load: ${(err as Error).message.split("\n")[0]}`,
      };
    }
    const register = mod.registerNativeConv3d;
    if (typeof register !== "function") {
      return {
        ok: false,
        reason: "@lungflow/tfjs-conv3d-native has no registerNativeConv3d export yet",
      };
    }
    for (const name of KERNELS) {
      const cfg = tf.getKernel(name, "cpu");
      if (cfg !== undefined) tfjsKernels.set(name, cfg);
    }
    let r: NativeConv3dResult;
    try {
      r = (await register(tf)) as NativeConv3dResult;
    } catch (err) {
      swap(tfjsKernels);
      return { ok: false, reason: `registerNativeConv3d threw: ${(err as Error).message}` };
    }
    if (r?.ok) {
      // Its multi-threaded float32 arithmetic for the large fast element-wise kernels.
      if (typeof mod.nativeElementwise === "function") {
        setNativeElementwise((mod.nativeElementwise as () => NativeOps | undefined)());
      }
      for (const name of KERNELS) {
        const cfg = tf.getKernel(name, "cpu");
        if (cfg !== undefined && cfg !== tfjsKernels.get(name)) nativeKernels.set(name, cfg);
      }
    }
    return { ok: Boolean(r?.ok), reason: String(r?.reason ?? ""), isa: r?.isa };
  })();
  return loaded;
}

/**
 * Switches the `cpu` backend's 3D conv kernels between the native ones (true) and tfjs's
 * JS ones (false). Returns whether native kernels are now active (false if they never
 * loaded: call `loadNativeConv3d()` / `initTf()` first).
 */
export function useNativeConv3d(enabled: boolean): boolean {
  if (enabled) {
    if (nativeKernels.size === 0) return false;
    swap(nativeKernels);
    return true;
  }
  swap(tfjsKernels);
  return false;
}
