import * as path from "node:path";
import { StoreError } from "../errors.js";
import { dirExists, listDir, readJsonFile } from "../fs-util.js";
import { isValidPatientId, type PatientAttrs, type RootAttrs } from "../schema.js";
import { checkPatientMeta } from "./patient-meta.js";
import { ROOT_META } from "./root-attrs.js";

/** Sorted ids of the patients in the store at `root`. */
export async function listPatients(root: string): Promise<string[]> {
  const entries = await listDir(path.join(root, "patients"));
  return entries
    .filter((e) => e.isDirectory() && isValidPatientId(e.name))
    .map((e) => e.name)
    .sort();
}

/** See `PatchStore.getPatient`; the label comes from `rootAttrs.labels`. */
export async function getPatient(
  root: string,
  rootAttrs: RootAttrs,
  id: string,
): Promise<PatientAttrs | undefined> {
  if (!isValidPatientId(id)) return undefined;
  const file = path.join(root, "patients", id, ROOT_META);
  let meta: unknown;
  try {
    meta = await readJsonFile(file);
  } catch (err) {
    throw new StoreError(
      "PATIENT_CORRUPT",
      `patient ${id}: cannot parse ${file}`,
      { patientId: id, file },
      { cause: err },
    );
  }
  if (meta === undefined) {
    if (await dirExists(path.join(root, "patients", id))) {
      throw new StoreError("PATIENT_CORRUPT", `patient ${id}: ${file} is missing`, {
        patientId: id,
        file,
      });
    }
    return undefined;
  }
  const attrs = checkPatientMeta(id, meta, file);
  const { label: _mirrored, ...rest } = attrs;
  const label = rootAttrs.labels[id];
  return label === undefined ? rest : { ...rest, label };
}
