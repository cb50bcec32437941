import * as path from "node:path";
import * as zarr from "zarrita";
import { ChunkDecodeError } from "../errors.js";
import { openArrays } from "./open-arrays.js";
import type { StoreState } from "./state.js";

/** Which array of a patient: the cropped HU volume or its lung mask. */
export type ArrayName = "hu" | "mask";

/** Path of a chunk file of a patient's array, for messages. */
export function chunkPath(root: string, id: string, array: ArrayName, coords: number[]): string {
  return path.join(root, "patients", id, array, "c", ...coords.map(String));
}

/** See `PatchStore.readChunk`. */
export async function readChunk(
  s: StoreState,
  id: string,
  array: ArrayName,
  coords: number[],
  opts: { cache?: boolean; signal?: AbortSignal } = {},
): Promise<Int16Array | Uint8Array> {
  const h = await openArrays(s, id);
  const arr = h[array];
  const load = async () => {
    try {
      const c = await arr.getChunk(coords, { signal: opts.signal });
      return c.data as Int16Array | Uint8Array;
    } catch (err) {
      if (zarr.isZarritaError(err, "CodecPipelineError")) {
        const e = err as unknown as { codec: string; direction: "encode" | "decode" };
        throw new ChunkDecodeError(
          {
            chunkPath: chunkPath(s.root, id, array, coords),
            codec: e.codec,
            direction: e.direction,
            patientId: id,
            array,
          },
          { cause: (err as Error).cause ?? err },
        );
      }
      throw err;
    }
  };
  if (opts.cache === false) return load();
  return s.cache.get(`${id}@${h.attrs.ingestedAt}/${array}/${coords.join(".")}`, load);
}
