import * as path from "node:path";
import type { FeatureAttrs, FeatureShape } from "../features/feature-meta.js";
import { removeFeatures } from "../features/list-features.js";
import {
  type FeatureStoreView,
  type WriteFeaturesOptions,
  writeFeatures,
} from "../features/write-features.js";
import { withWriteErrors } from "../write-failure.js";

/** See `PatchStore.writeFeatures`: `writeFeatures` with its write failures typed. */
export function writeFeaturesOf(
  store: FeatureStoreView,
  id: string,
  encoderId: string,
  k: number,
  features: { data: Float32Array; shape: FeatureShape },
  meta: Record<string, unknown>,
  opts: WriteFeaturesOptions,
): Promise<FeatureAttrs> {
  const step = {
    store: store.root,
    writing: `features ${encoderId}/s${k} of patient ${id}`,
    path: path.join(store.root, "patients", id, "features", encoderId, `s${k}`),
    patientId: id,
  };
  return withWriteErrors(step, () => writeFeatures(store, id, encoderId, k, features, meta, opts));
}

/** See `PatchStore.removeFeatures`: `removeFeatures` with its write failures typed. */
export function removeFeaturesOf(root: string, id: string, encoderId?: string): Promise<boolean> {
  const step = {
    store: root,
    writing: `the removal of ${encoderId ? `features ${encoderId}` : "all features"} of patient ${id}`,
    path: path.join(root, "patients", id, "features", encoderId ?? ""),
    patientId: id,
  };
  return withWriteErrors(step, () => removeFeatures(root, id, encoderId));
}
