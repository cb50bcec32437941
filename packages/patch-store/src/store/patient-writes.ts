import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Volume } from "@lungflow/volume";
import { StoreError } from "../errors.js";
import { mkdirp, removeTree } from "../fs-util.js";
import {
  isValidPatientId,
  type PatientAttrs,
  type PatientSource,
  type PreprocessingParams,
} from "../schema.js";
import { withWriteErrors } from "../write-failure.js";
import { type WriteOptions, writePatientGroup } from "../write-patient.js";
import { checkParams } from "./check-params.js";
import type { StoreState } from "./state.js";

/** See `PatchStore.writePatient`. */
export async function writePatient(
  s: StoreState,
  input: {
    id: string;
    hu: Volume<Int16Array>;
    mask: Volume<Uint8Array>;
    source: PatientSource;
    params: PreprocessingParams;
  },
  opts: WriteOptions,
): Promise<PatientAttrs> {
  const { id } = input;
  if (!isValidPatientId(id)) {
    throw new StoreError(
      "INVALID_PATIENT_ID",
      `invalid patient id "${id}" (letters, digits, ._- only, not starting with .)`,
      {
        patientId: id,
      },
    );
  }
  checkParams(s.root, s.rootAttrs.params, input.params);
  const step = {
    store: s.root,
    writing: `patient ${id} (hu, mask, metadata)`,
    path: path.join(s.root, "patients", id),
    patientId: id,
  };
  const attrs = await withWriteErrors(step, () =>
    writePatientGroup(s.root, { ...input, label: s.rootAttrs.labels[id] }, opts),
  );
  s.handles.delete(id);
  s.cache.clear(`${id}@`);
  return attrs;
}

/** See `PatchStore.removePatient`. */
export async function removePatient(s: StoreState, id: string): Promise<boolean> {
  if (!isValidPatientId(id)) return false;
  const target = path.join(s.root, "patients", id);
  const trash = path.join(s.root, ".trash", `${id}~rm-${process.pid}-${Date.now()}`);
  const step = { store: s.root, writing: `the removal of patient ${id}`, path: target };
  const moved = await withWriteErrors(step, async () => {
    await mkdirp(path.dirname(trash));
    try {
      await fs.rename(target, trash);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
      throw err;
    }
  });
  if (!moved) return false;
  await removeTree(trash).catch(() => undefined); // out of patients/ already; recover() ends it
  s.handles.delete(id);
  return true;
}
