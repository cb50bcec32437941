import { makeVolume, type Volume } from "@lungflow/volume";
import { openArrays } from "./open-arrays.js";
import type { ArrayName } from "./read-chunk.js";
import { readPatch } from "./read-patch.js";
import type { StoreState } from "./state.js";

/** See `PatchStore.readVolume`. */
export async function readVolume(
  s: StoreState,
  id: string,
  array: ArrayName,
  opts: { signal?: AbortSignal },
): Promise<Volume<Int16Array | Uint8Array>> {
  const { attrs } = await openArrays(s, id);
  const data = await readPatch(s, id, [0, 0, 0], attrs.shape, {
    array,
    cache: false,
    signal: opts.signal,
  });
  return makeVolume(data, attrs.shape, attrs.spacing, attrs.origin, attrs.direction);
}
