import { StoreError } from "../errors.js";
import type { PatientAttrs } from "../schema.js";

function isVec3(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === "number" && Number.isFinite(x))
  );
}

const REQUIRED: [keyof PatientAttrs, (v: unknown) => boolean][] = [
  [
    "bbox",
    (v) => Array.isArray(v) && v.length === 3 && v.every((p) => Array.isArray(p) && p.length === 2),
  ],
  ["shape", (v) => isVec3(v) && (v as number[]).every((n) => Number.isInteger(n) && n > 0)],
  ["spacing", isVec3],
  ["sourceSpacing", isVec3],
  ["sourceShape", isVec3],
  ["origin", isVec3],
  ["direction", (v) => Array.isArray(v) && v.length === 3 && v.every(isVec3)],
  ["otsuThreshold", (v) => typeof v === "number"],
  ["seriesInstanceUid", (v) => typeof v === "string"],
  ["fileCount", (v) => Number.isInteger(v)],
  ["sourceHash", (v) => typeof v === "string" && v.length > 0],
  ["ingestedAt", (v) => typeof v === "string"],
  ["lungflowVersion", (v) => typeof v === "string"],
];

/** Checks a patient group's zarr.json and returns its attributes (throws PATIENT_CORRUPT). */
export function checkPatientMeta(id: string, meta: unknown, file: string): PatientAttrs {
  const m = meta as {
    zarr_format?: unknown;
    node_type?: unknown;
    attributes?: Record<string, unknown>;
  };
  const bad = (why: string) =>
    new StoreError("PATIENT_CORRUPT", `patient ${id}: ${why} (${file})`, {
      patientId: id,
      file,
      reason: why,
    });
  if (m?.zarr_format !== 3 || m.node_type !== "group" || !m.attributes)
    throw bad("not a Zarr v3 group");
  const a = m.attributes;
  for (const [k, ok] of REQUIRED) {
    if (!ok(a[k]))
      throw bad(`attribute ${String(k)} missing or malformed (${JSON.stringify(a[k])})`);
  }
  const bbox = a.bbox as [number, number][];
  const shape = a.shape as number[];
  if (bbox.some(([s, e], i) => e - s !== shape[i]))
    throw bad(`bbox ${JSON.stringify(bbox)} does not match shape ${shape.join("x")}`);
  if (a.label !== undefined && a.label !== 0 && a.label !== 1)
    throw bad(`label ${JSON.stringify(a.label)} is not 0/1`);
  return { ...(a as unknown as PatientAttrs), id };
}
