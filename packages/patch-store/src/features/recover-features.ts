import * as fs from "node:fs/promises";
import * as path from "node:path";
import { listDir, readJsonFile, removeTree } from "../fs-util.js";
import type { PatientAttrs } from "../schema.js";
import { narrowGroupMeta } from "./encoder-group.js";
import { checkFeatureArrayMeta } from "./feature-meta.js";
import { encoderDir, featureArrayDir, featuresDir, parseStagingName } from "./feature-paths.js";
import { encoderIdsOf } from "./list-features.js";

const TMP_RE = /^\..*\.tmp$/;

/**
 * Temporary folders and files feature writes leave when killed, outside `.staging/` (which
 * the store lists itself): `patients/<id>/.features~….tmp`, `features/.<encoderId>~….tmp`,
 * `features/<encoderId>/.zarr.json.….tmp`. Paths relative to the store root.
 */
export async function featureTemporaries(root: string, ids: string[]): Promise<string[]> {
  const out: string[] = [];
  const add = async (dir: string, onlyFeatures = false) => {
    for (const e of await listDir(dir)) {
      if (!TMP_RE.test(e.name) || (onlyFeatures && !e.name.startsWith(".features~"))) continue;
      out.push(path.relative(root, path.join(dir, e.name)));
    }
  };
  for (const id of ids) {
    await add(path.join(root, "patients", id), true);
    await add(featuresDir(root, id));
    for (const enc of await encoderIdsOf(root, id)) await add(encoderDir(root, id, enc));
  }
  return out;
}

/**
 * Finishes or drops what killed feature writes left (call with the store lock held, before
 * the store's own clean-up of `.staging/`): a `.staging/features~<id>~<enc>~s<k>~….ready`
 * whose `s<k>` is missing (a kill between the two renames of a replacement, or just before
 * the publishing rename) is moved into place when the patient is still the one the features
 * were computed from; every other feature staging folder and temporary is deleted.
 * Returns the arrays moved in (`patients/<id>/features/<enc>/s<k>`) and what was removed.
 */
export async function recoverFeatures(
  root: string,
  ids: string[],
  getPatient: (id: string) => Promise<PatientAttrs | undefined>,
): Promise<{ rolledForward: string[]; removed: string[] }> {
  const rolledForward: string[] = [];
  const removed: string[] = [];
  const staging = path.join(root, ".staging");
  for (const e of await listDir(staging)) {
    const s = parseStagingName(e.name);
    if (!s) continue;
    const p = path.join(staging, e.name);
    if (s.ready && (await canRollForward(root, p, s, getPatient))) {
      const meta = (await readJsonFile(path.join(p, "zarr.json"))) as {
        attributes: { meta: Record<string, unknown> };
      };
      await narrowGroupMeta(root, s.id, s.encoderId, meta.attributes.meta);
      await fs.rename(p, featureArrayDir(root, s.id, s.encoderId, s.k));
      rolledForward.push(path.relative(root, featureArrayDir(root, s.id, s.encoderId, s.k)));
    } else {
      await removeTree(p);
      removed.push(path.join(".staging", e.name));
    }
  }
  for (const rel of await featureTemporaries(root, ids)) {
    await removeTree(path.join(root, rel));
    removed.push(rel);
  }
  return { rolledForward, removed };
}

async function canRollForward(
  root: string,
  ready: string,
  s: { id: string; encoderId: string; k: number },
  getPatient: (id: string) => Promise<PatientAttrs | undefined>,
): Promise<boolean> {
  const target = featureArrayDir(root, s.id, s.encoderId, s.k);
  if (await fs.stat(target).catch(() => undefined)) return false;
  if (!(await fs.stat(path.dirname(target)).catch(() => undefined))) return false;
  const checked = checkFeatureArrayMeta(
    await readJsonFile(path.join(ready, "zarr.json")).catch(() => undefined),
    s.encoderId,
    s.k,
  );
  if (typeof checked === "string") return false;
  const p = await getPatient(s.id).catch(() => undefined);
  return (
    p !== undefined &&
    p.sourceHash === checked.attrs.patientSourceHash &&
    p.ingestedAt === checked.attrs.patientIngestedAt
  );
}
