import * as path from "node:path";
import { featureTemporaries } from "../features/recover-features.js";
import { listDir } from "../fs-util.js";
import { listPatients } from "./patients.js";

/** See `PatchStore.leftovers`. */
export async function leftovers(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of [".staging", ".trash"]) {
    for (const e of await listDir(path.join(root, d))) out.push(path.join(d, e.name));
  }
  out.push(...(await featureTemporaries(root, await listPatients(root))));
  return out;
}
