import * as fs from "node:fs/promises";
import * as path from "node:path";
import { SYMMETRY_COUNT } from "@lungflow/volume";
import { listDir, mkdirp, removeTree, token } from "../fs-util.js";
import { isValidPatientId } from "../schema.js";
import { readEncoderGroup } from "./encoder-group.js";
import {
  checkFeatureKey,
  encoderDir,
  featuresDir,
  isValidEncoderId,
  symmetryOfName,
} from "./feature-paths.js";

/** One encoder's features of one patient (`PatchStore.listFeatures`). */
export interface PatientFeatureSet {
  encoderId: string;
  /** Stored symmetry indices, ascending. */
  symmetries: number[];
  /** The group's `meta`: the keys with the same value in every symmetry written. */
  meta: Record<string, unknown>;
}

/** One encoder's features over the whole store (`PatchStore.featureSets`). */
export interface FeatureSetSummary {
  encoderId: string;
  /** Patients with at least one symmetry of this encoder. */
  patients: number;
  /** Feature arrays (patient × symmetry) stored. */
  arrays: number;
  /** Patients with all 48 symmetries. */
  complete: number;
  /** Symmetry indices stored for at least one patient, ascending. */
  symmetries: number[];
}

/** Encoder ids with a folder under `patients/<id>/features` (sorted). */
export async function encoderIdsOf(root: string, id: string): Promise<string[]> {
  return (await listDir(featuresDir(root, id)))
    .filter((e) => e.isDirectory() && isValidEncoderId(e.name))
    .map((e) => e.name)
    .sort();
}

/** Symmetries `s<k>` stored for one encoder of one patient (ascending). */
export async function symmetriesOf(root: string, id: string, encoderId: string): Promise<number[]> {
  const ks: number[] = [];
  for (const e of await listDir(encoderDir(root, id, encoderId))) {
    const k = e.isDirectory() ? symmetryOfName(e.name) : undefined;
    if (k !== undefined) ks.push(k);
  }
  return ks.sort((a, b) => a - b);
}

/**
 * The feature sets of one patient (`[]` when none or no such patient). A published `s<k>`
 * is always complete (it is renamed in whole), so listing reads folder names only, plus
 * each encoder group's metadata.
 * @throws StoreError `FEATURES_CORRUPT` when an encoder group's metadata is unreadable.
 */
export async function listFeatures(root: string, id: string): Promise<PatientFeatureSet[]> {
  if (!isValidPatientId(id)) return [];
  const out: PatientFeatureSet[] = [];
  for (const encoderId of await encoderIdsOf(root, id)) {
    const g = await readEncoderGroup(root, id, encoderId);
    out.push({
      encoderId,
      symmetries: await symmetriesOf(root, id, encoderId),
      meta: g?.meta ?? {},
    });
  }
  return out;
}

/** Per encoder id (sorted), how many patients and symmetries the store holds. */
export async function featureSets(root: string, ids: string[]): Promise<FeatureSetSummary[]> {
  const acc = new Map<
    string,
    { patients: number; arrays: number; complete: number; ks: Set<number> }
  >();
  for (const id of ids) {
    for (const encoderId of await encoderIdsOf(root, id)) {
      const ks = await symmetriesOf(root, id, encoderId);
      if (!ks.length) continue;
      let a = acc.get(encoderId);
      if (!a) {
        a = { patients: 0, arrays: 0, complete: 0, ks: new Set() };
        acc.set(encoderId, a);
      }
      a.patients++;
      a.arrays += ks.length;
      if (ks.length === SYMMETRY_COUNT) a.complete++;
      for (const k of ks) a.ks.add(k);
    }
  }
  return [...acc.keys()].sort().map((encoderId) => {
    const a = acc.get(encoderId)!;
    const symmetries = [...a.ks].sort((x, y) => x - y);
    return { encoderId, patients: a.patients, arrays: a.arrays, complete: a.complete, symmetries };
  });
}

/**
 * Removes one encoder's features of a patient (or all its features without `encoderId`):
 * one rename into `.trash/`, then deletion. Returns false when there was nothing to remove.
 * The caller holds the store lock.
 */
export async function removeFeatures(
  root: string,
  id: string,
  encoderId?: string,
): Promise<boolean> {
  checkFeatureKey(id, encoderId ?? "all");
  const target = encoderId === undefined ? featuresDir(root, id) : encoderDir(root, id, encoderId);
  const trash = path.join(root, ".trash", `features~${id}~${encoderId ?? "all"}~rm-${token()}`);
  await mkdirp(path.dirname(trash));
  try {
    await fs.rename(target, trash);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  await removeTree(trash);
  return true;
}
