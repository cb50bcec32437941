import { loadAddon, type NativeStreamCopy } from "./native-addon.js";

/** The addon's streaming copy, or undefined when the addon is not built. */
export function nativeStreamCopy(): NativeStreamCopy | undefined {
  const r = loadAddon();
  return "addon" in r ? r.addon.streamCopy.bind(r.addon) : undefined;
}

let streamCopy: NativeStreamCopy | null | undefined;

/**
 * Whether {@link augmentIntoWasm} copies finished patches into the batch with the native
 * addon's non-temporal stores (default: yes where the addon is built). The batch buffer's
 * lines are then neither read first nor kept in cache: 17 -> 8 us per 32^3 patch into cold
 * batch memory in a C test here. Returns whether it is in use.
 */
export function useNativeStreamCopy(on = true): boolean {
  streamCopy = on ? (nativeStreamCopy() ?? null) : null;
  return streamCopy !== null;
}

/** `out.set(patch, outOffset)`, with the native streaming copy when it is in use. */
export function copyPatch(patch: Float32Array, out: Float32Array, outOffset: number): void {
  if (streamCopy === undefined) useNativeStreamCopy();
  if (streamCopy) streamCopy(patch, out, outOffset);
  else out.set(patch, outOffset);
}
