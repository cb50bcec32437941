import type FileSystemStore from "@zarrita/storage/fs";
import type * as zarr from "zarrita";
import type { ChunkCache } from "../chunk-cache.js";
import type { PatientAttrs, RootAttrs } from "../schema.js";

/** A patient's opened arrays, with the attributes they were checked against. */
export interface PatientHandles {
  attrs: PatientAttrs;
  hu: zarr.Array<"int16", FileSystemStore>;
  mask: zarr.Array<"uint8", FileSystemStore>;
}

/**
 * The state one `PatchStore` shares with its per-job modules: the root, the root
 * attributes as last read or written, the opened patients and the decoded-chunk cache.
 */
export interface StoreState {
  readonly root: string;
  readonly fsStore: FileSystemStore;
  rootAttrs: RootAttrs;
  readonly cache: ChunkCache<Int16Array | Uint8Array>;
  readonly handles: Map<string, Promise<PatientHandles>>;
}
