import * as path from "node:path";
import { groupJson } from "../create-store.js";
import { StoreError } from "../errors.js";
import { atomicWriteFile, readJsonFile } from "../fs-util.js";
import { type RootAttrs, SCHEMA_VERSION } from "../schema.js";
import { withWriteErrors } from "../write-failure.js";
import type { StoreState } from "./state.js";

/** The metadata file of a Zarr v3 group or array. */
export const ROOT_META = "zarr.json";

/** Reads and checks the root attributes (`lungflow`) of the store at `root`. */
export async function readRootAttrs(root: string): Promise<RootAttrs> {
  const file = path.join(root, ROOT_META);
  let meta: unknown;
  try {
    meta = await readJsonFile(file);
  } catch (err) {
    throw new StoreError(
      "STORE_INVALID",
      `cannot parse ${file}`,
      { store: root, file },
      { cause: err },
    );
  }
  if (meta === undefined) {
    throw new StoreError(
      "STORE_NOT_FOUND",
      `no patch store at ${root} (no ${ROOT_META}); create one with an ingest`,
      {
        store: root,
      },
    );
  }
  const l = (meta as { attributes?: { lungflow?: RootAttrs } }).attributes?.lungflow;
  if (!l || typeof l.schema !== "number" || !l.params) {
    throw new StoreError(
      "STORE_INVALID",
      `${root} is a Zarr group but not a lungflow store (no attributes.lungflow)`,
      {
        store: root,
        file,
      },
    );
  }
  if (l.schema !== SCHEMA_VERSION) {
    throw new StoreError(
      "STORE_INVALID",
      `store ${root} has schema ${l.schema}; this lungflow reads schema ${SCHEMA_VERSION}`,
      {
        store: root,
        schema: l.schema,
      },
    );
  }
  return { ...l, labels: l.labels ?? {} };
}

/** Re-reads the root attributes, applies `fn` and writes the result atomically. */
export async function updateRootAttrs(
  s: StoreState,
  fn: (a: RootAttrs) => RootAttrs,
): Promise<RootAttrs> {
  const fresh = await readRootAttrs(s.root);
  const next = fn(fresh);
  const file = path.join(s.root, ROOT_META);
  const step = {
    store: s.root,
    writing: "the store's root metadata (labels, split)",
    path: file,
  };
  await withWriteErrors(step, () => atomicWriteFile(file, groupJson({ lungflow: next })));
  s.rootAttrs = next;
  return next;
}
