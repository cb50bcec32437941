import * as zarr from "zarrita";
import { StoreError } from "../errors.js";
import { getPatient } from "./patients.js";
import type { PatientHandles, StoreState } from "./state.js";

async function openUncached(s: StoreState, id: string): Promise<PatientHandles> {
  const attrs = await getPatient(s.root, s.rootAttrs, id);
  if (!attrs) {
    throw new StoreError("PATIENT_NOT_FOUND", `patient ${id} is not in the store ${s.root}`, {
      patientId: id,
      store: s.root,
    });
  }
  const loc = zarr.root(s.fsStore);
  try {
    const hu = await zarr.open.v3(loc.resolve(`patients/${id}/hu`), { kind: "array" });
    const mask = await zarr.open.v3(loc.resolve(`patients/${id}/mask`), { kind: "array" });
    if (!hu.is("int16") || !mask.is("uint8"))
      throw new Error(`dtypes ${hu.dtype}/${mask.dtype}, expected int16/uint8`);
    for (const a of [hu, mask]) {
      if (a.shape.some((n, i) => n !== attrs.shape[i])) {
        throw new Error(
          `array shape ${a.shape.join("x")} differs from attrs shape ${attrs.shape.join("x")}`,
        );
      }
    }
    return { attrs, hu, mask } as PatientHandles;
  } catch (err) {
    throw new StoreError(
      "PATIENT_CORRUPT",
      `patient ${id}: arrays unreadable: ${(err as Error).message}`,
      {
        patientId: id,
      },
      { cause: err },
    );
  }
}

/**
 * A patient's opened `hu` and `mask` arrays, checked against its attributes; opened once
 * per store and kept until the patient is written, removed or the store refreshed.
 *
 * @throws StoreError `PATIENT_NOT_FOUND`, `PATIENT_CORRUPT`.
 */
export function openArrays(s: StoreState, id: string): Promise<PatientHandles> {
  let h = s.handles.get(id);
  if (!h) {
    h = openUncached(s, id);
    s.handles.set(id, h);
    h.catch(() => s.handles.delete(id));
  }
  return h;
}
