import * as path from "node:path";
import { SYMMETRY_COUNT } from "@lungflow/volume";
import { StoreError } from "../errors.js";
import { isValidPatientId } from "../schema.js";

/**
 * Names and places of encoder features:
 * `patients/<id>/features/<encoderId>/s<k>` (k the cube symmetry index, 0..47).
 * Staging folders of feature writes live in the store's `.staging/` as
 * `features~<id>~<encoderId>~s<k>~<token>` (ids and encoder ids cannot hold `~`, so the name
 * parses back unambiguously; `recover()` needs the target of a finished write).
 */

const SYM_RE = /^s(\d{1,2})$/;
const STAGING_RE = /^features~([^~]+)~([^~]+)~s(\d{1,2})~([^~]+?)(\.ready)?$/;

/** True if `id` can name an encoder folder (the patient-id rule: `[A-Za-z0-9_][A-Za-z0-9._-]*`). */
export function isValidEncoderId(id: string): boolean {
  return isValidPatientId(id);
}

/** `k` of a folder name `s<k>`, or `undefined` when the name is not one. */
export function symmetryOfName(name: string): number | undefined {
  const m = SYM_RE.exec(name);
  if (!m) return undefined;
  const k = Number(m[1]);
  return k < SYMMETRY_COUNT && String(k) === m[1] ? k : undefined;
}

/** Throws the typed error for a bad patient id, encoder id or symmetry index. */
export function checkFeatureKey(id: string, encoderId: string, k?: number): void {
  if (!isValidPatientId(id)) {
    throw new StoreError(
      "INVALID_PATIENT_ID",
      `invalid patient id "${id}" (letters, digits, ._- only, not starting with .)`,
      { patientId: id },
    );
  }
  if (!isValidEncoderId(encoderId)) {
    throw new StoreError(
      "INVALID_ENCODER_ID",
      `invalid encoder id "${encoderId}" (letters, digits, ._- only, not starting with ., at most 128)`,
      { patientId: id, encoderId },
    );
  }
  if (k !== undefined && !(Number.isInteger(k) && k >= 0 && k < SYMMETRY_COUNT)) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `symmetry index must be an integer in 0..${SYMMETRY_COUNT - 1}, got ${k}`,
      { patientId: id, encoderId, k },
    );
  }
}

/** `patients/<id>/features` (absolute). */
export function featuresDir(root: string, id: string): string {
  return path.join(root, "patients", id, "features");
}

/** `patients/<id>/features/<encoderId>` (absolute). */
export function encoderDir(root: string, id: string, encoderId: string): string {
  return path.join(featuresDir(root, id), encoderId);
}

/** The array folder `patients/<id>/features/<encoderId>/s<k>` (absolute). */
export function featureArrayDir(root: string, id: string, encoderId: string, k: number): string {
  return path.join(encoderDir(root, id, encoderId), `s${k}`);
}

/** The same path relative to the store root, with `/` (for messages and `array` fields). */
export function featureArrayName(id: string, encoderId: string, k: number): string {
  return `patients/${id}/features/${encoderId}/s${k}`;
}

/** Name of a feature write's staging folder in `.staging/` (without `.ready`). */
export function stagingName(id: string, encoderId: string, k: number, tok: string): string {
  return `features~${id}~${encoderId}~s${k}~${tok}`;
}

/** Parses a `.staging/` entry made by a feature write; `undefined` for anything else. */
export function parseStagingName(
  name: string,
): { id: string; encoderId: string; k: number; ready: boolean } | undefined {
  const m = STAGING_RE.exec(name);
  if (!m) return undefined;
  const k = symmetryOfName(`s${m[3]}`);
  if (k === undefined || !isValidPatientId(m[1]) || !isValidEncoderId(m[2])) return undefined;
  return { id: m[1], encoderId: m[2], k, ready: m[5] !== undefined };
}
