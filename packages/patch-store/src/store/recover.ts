import * as fs from "node:fs/promises";
import * as path from "node:path";
import { recoverFeatures } from "../features/recover-features.js";
import { dirExists, listDir, removeTree } from "../fs-util.js";
import { liveClaimIds, recoverClaims } from "../patient-claim.js";
import { isValidPatientId } from "../schema.js";
import { syncLabelMirrors } from "./labels-split.js";
import { getPatient, listPatients } from "./patients.js";
import { readRootAttrs } from "./root-attrs.js";
import type { StoreState } from "./state.js";

/** Removes the temporary files (`.<name>.tmp`) of the root, `patients/` and each patient. */
async function removeTemporaries(root: string, removed: string[]): Promise<void> {
  const tmpDirs = [root, path.join(root, "patients")];
  for (const id of await listPatients(root)) tmpDirs.push(path.join(root, "patients", id));
  for (const d of tmpDirs) {
    for (const e of await listDir(d)) {
      if (/^\..*\.tmp$/.test(e.name)) {
        await removeTree(path.join(d, e.name));
        removed.push(path.relative(root, path.join(d, e.name)));
      }
    }
  }
}

/** See `PatchStore.recover` (the caller wraps it in `withWriteErrors`). */
export async function recoverStore(
  s: StoreState,
): Promise<{ rolledForward: string[]; removed: string[] }> {
  const root = s.root;
  const feat = await recoverFeatures(root, await listPatients(root), (id) =>
    getPatient(root, s.rootAttrs, id),
  );
  const rolledForward: string[] = feat.rolledForward;
  const removed: string[] = feat.removed;
  // Staging and trash of a patient with a live claim belong to a writer at work (another
  // process or host sharing the store): not leftovers.
  const busy = await liveClaimIds(root);
  const claimed = (name: string) => busy.has(name.split("~")[0]);
  const staging = path.join(root, ".staging");
  for (const e of await listDir(staging)) {
    if (claimed(e.name)) continue;
    const p = path.join(staging, e.name);
    const m = /^(.+)~[^~]+\.ready$/.exec(e.name);
    if (m && isValidPatientId(m[1]) && !(await dirExists(path.join(root, "patients", m[1])))) {
      await fs.rename(p, path.join(root, "patients", m[1]));
      rolledForward.push(m[1]);
    } else {
      await removeTree(p);
      removed.push(path.join(".staging", e.name));
    }
  }
  for (const e of await listDir(path.join(root, ".trash"))) {
    if (claimed(e.name)) continue;
    await removeTree(path.join(root, ".trash", e.name));
    removed.push(path.join(".trash", e.name));
  }
  await removeTemporaries(root, removed);
  removed.push(...(await recoverClaims(root)));
  if (rolledForward.length) s.handles.clear();
  // A crash while labels were mirrored leaves some patient attributes stale: resync.
  s.rootAttrs = await readRootAttrs(root);
  await syncLabelMirrors(s);
  return { rolledForward, removed };
}
