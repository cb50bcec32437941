import * as path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { ChunkDecodeError, StoreError } from "../errors.js";
import type { FeatureShape } from "./feature-meta.js";
import { featureArrayName } from "./feature-paths.js";

/** The chunks of one stored feature array, loaded one at a time. */
export interface FeatureChunks {
  /** Coordinates of every chunk of the grid (the writer stores all of them). */
  coords: FeatureShape[];
  /** Chunk edge `[cz, cy, cx, C]`. */
  chunk: FeatureShape;
  /** Absolute path of a chunk file, for messages. */
  chunkPath(coords: number[]): string;
  /**
   * One decoded chunk (full chunk shape; edge chunks padded with 0).
   * @throws ChunkDecodeError when it does not decode (bad crc32c, bad zstd frame);
   *   StoreError `CHUNK_MISSING` when its file is absent.
   */
  load(coords: number[], signal?: AbortSignal): Promise<Float32Array>;
}

const CHUNK_KEY = /\/c(\/\d+)+$/;

/**
 * Opens `patients/<id>/features/<encoderId>/s<k>` for chunk reads. zarrita fills a missing
 * chunk silently; here a missing chunk is an error, because every chunk was written.
 */
export async function openFeatureChunks(
  root: string,
  id: string,
  encoderId: string,
  k: number,
  shape: FeatureShape,
  chunk: FeatureShape,
): Promise<FeatureChunks> {
  const fsStore = new FileSystemStore(root);
  const name = featureArrayName(id, encoderId, k);
  const chunkPath = (coords: number[]) => path.join(root, name, "c", ...coords.map(String));
  const strict = {
    async get(key: `/${string}`, opts?: { signal?: AbortSignal }) {
      const bytes = await fsStore.get(key, opts);
      if (bytes === undefined && CHUNK_KEY.test(key)) {
        const file = path.join(root, key);
        throw new StoreError("CHUNK_MISSING", `chunk ${file} of ${name} is missing`, {
          patientId: id,
          encoderId,
          k,
          chunkPath: file,
        });
      }
      return bytes;
    },
  };
  const arr = await zarr.open.v3(zarr.root(strict).resolve(name), { kind: "array" });
  const grid = shape.map((n, a) => Math.ceil(n / chunk[a]));
  const coords: FeatureShape[] = [];
  for (let z = 0; z < grid[0]; z++)
    for (let y = 0; y < grid[1]; y++) for (let x = 0; x < grid[2]; x++) coords.push([z, y, x, 0]);
  return {
    coords,
    chunk,
    chunkPath,
    async load(c, signal) {
      try {
        const got = await arr.getChunk(c, { signal });
        return got.data as Float32Array;
      } catch (err) {
        if (zarr.isZarritaError(err, "CodecPipelineError")) {
          const e = err as unknown as { codec: string; direction: "encode" | "decode" };
          throw new ChunkDecodeError(
            {
              chunkPath: chunkPath(c),
              codec: e.codec,
              direction: e.direction,
              patientId: id,
              array: `features/${encoderId}/s${k}`,
            },
            { cause: (err as Error).cause ?? err },
          );
        }
        throw err;
      }
    },
  };
}

/** Copies one decoded chunk at chunk coordinates `c` into the whole array `out`. */
export function copyChunkInto(
  data: Float32Array,
  c: number[],
  chunk: FeatureShape,
  out: Float32Array,
  shape: FeatureShape,
): void {
  const [, Y, X, C] = shape;
  const z0 = c[0] * chunk[0];
  const y0 = c[1] * chunk[1];
  const x0 = c[2] * chunk[2];
  const nz = Math.min(chunk[0], shape[0] - z0);
  const ny = Math.min(chunk[1], Y - y0);
  // One (z, y) row of a chunk is x * C contiguous floats in both arrays.
  const row = Math.min(chunk[2], X - x0) * C;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++) {
      const src = (z * chunk[1] + y) * chunk[2] * C;
      const dst = (((z0 + z) * Y + y0 + y) * X + x0) * C;
      out.set(data.subarray(src, src + row), dst);
    }
}
