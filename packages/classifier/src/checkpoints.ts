import fs from "node:fs/promises";
import path from "node:path";
import { loadGmcae } from "@lungflow/gmcae";
import { loadModel, type tf } from "@lungflow/tf-runtime";
import { ClassifierError } from "./errors.js";
import { buildClassifier, type ClassifierHeadConfig } from "./model.js";
// Custom layers must be registered before a saved classifier is loaded.
import "./channel-select.js";
import "./feature-standardization.js";
import "./seeded-dropout.js";
import "./spp.js";

/**
 * A run folder (`runs/NAME`, whose `best/` is used) or a checkpoint folder (holding
 * `model.json`) -> the checkpoint folder.
 */
export async function resolveCheckpoint(dir: string): Promise<string> {
  for (const d of [dir, path.join(dir, "best"), path.join(dir, "last")]) {
    try {
      await fs.access(path.join(d, "model.json"));
      return d;
    } catch {
      // try the next candidate
    }
  }
  throw new ClassifierError(
    "CHECKPOINT_NOT_FOUND",
    `no model.json in ${dir}, ${path.join(dir, "best")} or ${path.join(dir, "last")}`,
    { dir },
  );
}

/** Builds a classifier on the encoder of a trained GMCAE (a run or checkpoint folder). */
export async function classifierFromGmcae(
  gmcaeDir: string,
  head: Partial<ClassifierHeadConfig> = {},
): Promise<tf.LayersModel> {
  const g = await loadGmcae(await resolveCheckpoint(gmcaeDir));
  return buildClassifier(g.encoder, head);
}

/** Loads a trained classifier (a run or checkpoint folder). */
export async function loadClassifier(dir: string): Promise<tf.LayersModel> {
  return loadModel(await resolveCheckpoint(dir));
}
