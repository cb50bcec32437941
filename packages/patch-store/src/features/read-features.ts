import * as fs from "node:fs/promises";
import * as path from "node:path";
import { StoreError } from "../errors.js";
import { readJsonFile } from "../fs-util.js";
import { copyChunkInto, openFeatureChunks } from "./feature-chunks.js";
import {
  type CheckedFeatureMeta,
  checkFeatureArrayMeta,
  type FeatureArray,
} from "./feature-meta.js";
import { checkFeatureKey, featureArrayDir, featureArrayName } from "./feature-paths.js";

/** Chunks decoded at once by `readFeatures` (bounds memory; zstd is synchronous anyway). */
const READ_CONCURRENCY = 8;

/**
 * The checked metadata of a stored feature array; `undefined` when `s<k>` does not exist.
 * @throws StoreError `FEATURES_CORRUPT` when it exists but is not a complete feature array.
 */
export async function readFeatureMeta(
  root: string,
  id: string,
  encoderId: string,
  k: number,
): Promise<CheckedFeatureMeta | undefined> {
  const dir = featureArrayDir(root, id, encoderId, k);
  const file = path.join(dir, "zarr.json");
  const corrupt = (reason: string, cause?: unknown) =>
    new StoreError(
      "FEATURES_CORRUPT",
      `${featureArrayName(id, encoderId, k)}: ${reason} (${file})`,
      { patientId: id, encoderId, k, file, reason },
      { cause },
    );
  let meta: unknown;
  try {
    meta = await readJsonFile(file);
  } catch (err) {
    throw corrupt(`unreadable metadata: ${(err as Error).message}`, err);
  }
  if (meta === undefined) {
    const st = await fs.stat(dir).catch(() => undefined);
    if (!st) return undefined;
    throw corrupt("zarr.json is missing");
  }
  const checked = checkFeatureArrayMeta(meta, encoderId, k);
  if (typeof checked === "string") throw corrupt(checked);
  return checked;
}

/**
 * Reads the whole feature array `patients/<id>/features/<encoderId>/s<k>`. Missing (no such
 * patient, encoder or symmetry) is `undefined`; broken is an error.
 *
 * @throws StoreError `INVALID_PATIENT_ID`, `INVALID_ENCODER_ID`, `INVALID_ARGUMENT` (k),
 *   `FEATURES_CORRUPT`, `CHUNK_MISSING`; ChunkDecodeError naming the chunk file.
 */
export async function readFeatures(
  root: string,
  id: string,
  encoderId: string,
  k: number,
  opts: { signal?: AbortSignal } = {},
): Promise<FeatureArray | undefined> {
  checkFeatureKey(id, encoderId, k);
  const checked = await readFeatureMeta(root, id, encoderId, k);
  if (!checked) return undefined;
  const { attrs, chunk } = checked;
  const shape = attrs.shape;
  const chunks = await openFeatureChunks(root, id, encoderId, k, shape, chunk);
  const data = new Float32Array(shape[0] * shape[1] * shape[2] * shape[3]);
  let next = 0;
  const worker = async () => {
    while (next < chunks.coords.length) {
      opts.signal?.throwIfAborted();
      const c = chunks.coords[next++];
      copyChunkInto(await chunks.load(c, opts.signal), c, chunk, data, shape);
    }
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, worker));
  return { data, shape: [...shape], attrs };
}
