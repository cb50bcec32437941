import type { Vec3 } from "@lungflow/volume";
import { copyChunkToPatch } from "../copy-region.js";
import { StoreError } from "../errors.js";
import { openArrays } from "./open-arrays.js";
import { type ArrayName, readChunk } from "./read-chunk.js";
import type { StoreState } from "./state.js";

/** Options of `PatchStore.readPatch`. */
export interface ReadPatchOptions {
  /** `"hu"` (default) or `"mask"`. */
  array?: ArrayName;
  /** Value of voxels outside the stored array (default: -1000 HU (air) for hu, 0 for mask). */
  fill?: number;
  /** Use the chunk cache (default true). */
  cache?: boolean;
  signal?: AbortSignal;
}

/** See `PatchStore.readPatch`. */
export async function readPatch(
  s: StoreState,
  id: string,
  origin: Vec3,
  size: Vec3,
  opts: ReadPatchOptions = {},
): Promise<Int16Array | Uint8Array> {
  const array = opts.array ?? "hu";
  if (
    size.length !== 3 ||
    origin.length !== 3 ||
    size.some((n) => !Number.isInteger(n) || n <= 0) ||
    origin.some((n) => !Number.isInteger(n))
  ) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `readPatch: origin ${origin} and size ${size} must be 3 integers (size > 0)`,
      {
        patientId: id,
        origin,
        size,
      },
    );
  }
  const h = await openArrays(s, id);
  const arr = h[array];
  const shape = h.attrs.shape;
  const chunk = arr.chunks as Vec3;
  const n = size[0] * size[1] * size[2];
  const out = array === "hu" ? new Int16Array(n) : new Uint8Array(n);
  const inside = origin.every((o, a) => o >= 0 && o + size[a] <= shape[a]);
  if (!inside) out.fill(opts.fill ?? (array === "hu" ? -1000 : 0));
  const lo: number[] = [];
  const hi: number[] = [];
  for (let a = 0; a < 3; a++) {
    const st = Math.max(origin[a], 0);
    const e = Math.min(origin[a] + size[a], shape[a]);
    if (e <= st) return out;
    lo.push(Math.floor(st / chunk[a]));
    hi.push(Math.floor((e - 1) / chunk[a]));
  }
  const jobs: Promise<void>[] = [];
  for (let cz = lo[0]; cz <= hi[0]; cz++)
    for (let cy = lo[1]; cy <= hi[1]; cy++)
      for (let cx = lo[2]; cx <= hi[2]; cx++) {
        const coords: Vec3 = [cz, cy, cx];
        jobs.push(
          readChunk(s, id, array, coords, opts).then((data) => {
            const co = coords.map((c, a) => c * chunk[a]) as Vec3;
            copyChunkToPatch(data, co, chunk, out, origin, size, shape);
          }),
        );
      }
  await Promise.all(jobs);
  return out;
}
