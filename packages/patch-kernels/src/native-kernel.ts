import { loadAddon, type NativePatchKernel } from "./native-addon.js";

let patchKernel: NativePatchKernel | null | undefined;

/** The native patch kernel (this package's addon), or null where the addon is not built. */
export function nativeKernel(): NativePatchKernel | null {
  if (patchKernel === undefined) useNativeKernel();
  return patchKernel ?? null;
}

/**
 * Whether this thread may use the native patch kernel (default: yes where the addon is
 * built; `false` behaves as if it were not built: tests of that case). Returns whether it is
 * in use.
 */
export function useNativeKernel(on = true): boolean {
  const r = on ? loadAddon() : undefined;
  patchKernel = r && "addon" in r ? r.addon.cutPatches.bind(r.addon) : null;
  return patchKernel !== null;
}
