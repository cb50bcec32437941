import * as path from "node:path";
import { createStore } from "../create-store.js";
import { StoreError } from "../errors.js";
import { readJsonFile } from "../fs-util.js";
import { type PreprocessingParams, SCHEMA_VERSION } from "../schema.js";
import { PatchStore } from "../store.js";
import { checkParams } from "./check-params.js";
import { ROOT_META, readRootAttrs } from "./root-attrs.js";

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Create the store (and its parent folders) when it does not exist (default false). */
  create?: boolean;
  /**
   * The preprocessing parameters the caller will write with. Required with `create`;
   * when the store exists, they must equal the stored ones (`PARAMS_MISMATCH` otherwise).
   */
  params?: PreprocessingParams;
  /** Byte budget of the decoded-chunk LRU cache used by `readPatch` (default 128 MiB). */
  cacheBytes?: number;
}

/**
 * Opens (or with `create`, creates) the patch store at `root`.
 *
 * @throws StoreError `STORE_NOT_FOUND`, `STORE_INVALID`, `PARAMS_MISMATCH`.
 */
export async function openStore(root: string, opts: OpenStoreOptions = {}): Promise<PatchStore> {
  const abs = path.resolve(root);
  const file = path.join(abs, ROOT_META);
  if (opts.create && (await readJsonFile(file).catch(() => "corrupt")) === undefined) {
    if (!opts.params) {
      throw new StoreError("INVALID_ARGUMENT", "creating a store needs the preprocessing params", {
        store: abs,
      });
    }
    await createStore(abs, {
      schema: SCHEMA_VERSION,
      params: opts.params,
      createdAt: new Date().toISOString(),
      labels: {},
    });
  }
  const rootAttrs = await readRootAttrs(abs);
  if (opts.params) checkParams(abs, rootAttrs.params, opts.params);
  return new PatchStore(abs, rootAttrs, opts.cacheBytes ?? 128 * 1024 * 1024);
}
