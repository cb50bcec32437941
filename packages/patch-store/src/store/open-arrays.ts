import type FileSystemStore from "@zarrita/storage/fs";
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
  const corrupt = (why: string, context: Record<string, unknown>, cause?: unknown) =>
    new StoreError(
      "PATIENT_CORRUPT",
      `patient ${id}: arrays unreadable: ${why}`,
      { patientId: id, ...context },
      cause === undefined ? undefined : { cause },
    );
  const loc = zarr.root(s.fsStore);
  let hu: zarr.Array<zarr.DataType, FileSystemStore>;
  let mask: zarr.Array<zarr.DataType, FileSystemStore>;
  try {
    hu = await zarr.open.v3(loc.resolve(`patients/${id}/hu`), { kind: "array" });
    mask = await zarr.open.v3(loc.resolve(`patients/${id}/mask`), { kind: "array" });
  } catch (err) {
    throw corrupt((err as Error).message, {}, err);
  }
  if (!hu.is("int16") || !mask.is("uint8")) {
    throw corrupt(`dtypes ${hu.dtype}/${mask.dtype}, expected int16/uint8`, {
      dtypes: [hu.dtype, mask.dtype],
      expected: ["int16", "uint8"],
    });
  }
  for (const [name, a] of [
    ["hu", hu],
    ["mask", mask],
  ] as const) {
    if (a.shape.some((n, i) => n !== attrs.shape[i])) {
      throw corrupt(
        `array shape ${a.shape.join("x")} differs from attrs shape ${attrs.shape.join("x")}`,
        { array: name, shape: a.shape, expected: attrs.shape },
      );
    }
  }
  return { attrs, hu, mask };
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
