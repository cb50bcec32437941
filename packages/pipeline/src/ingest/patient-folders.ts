import * as fs from "node:fs/promises";
import * as path from "node:path";
import { defer, from, mergeMap, type Observable } from "rxjs";
import { IngestError } from "./errors.js";

/** One patient's DICOM folder; the folder name is the patient id (Kaggle layout). */
export interface PatientFolder {
  id: string;
  dir: string;
}

/**
 * Lists the patient folders of a DICOM root (its sub-folders, sorted by name; hidden ones
 * and plain files such as `stage1_labels.csv` are ignored).
 *
 * @throws IngestError `BAD_ROOT` when the root is missing or not a folder.
 */
export async function listPatientFolders(root: string): Promise<PatientFolder[]> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = await fs.readdir(root, { withFileTypes: true });
  } catch (err) {
    throw new IngestError(
      "BAD_ROOT",
      `cannot read the DICOM root ${root}: ${(err as Error).message}`,
      { root },
      { cause: err },
    );
  }
  return entries
    .filter((e) => e.isDirectory() && !e.name.startsWith("."))
    .map((e) => ({ id: e.name, dir: path.join(root, e.name) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The patient folders of a DICOM root as an Observable (see {@link listPatientFolders}). */
export function patientFolders(root: string): Observable<PatientFolder> {
  return defer(() => listPatientFolders(root)).pipe(mergeMap((xs) => from(xs)));
}
