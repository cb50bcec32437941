import { hashSeed } from "./rng.js";

/**
 * A deterministic DICOM UID under the UUID-derived root 2.25 (ISO/IEC 9834-8): 2.25.
 * followed by a 128-bit integer made from hashes of `parts` (seed, patient, role, index),
 * so the same seed always gives the same Study/Series/SOP Instance UIDs.
 */
export function makeUid(...parts: number[]): string {
  let n = 0n;
  for (let k = 0; k < 4; k++) n = (n << 32n) | BigInt(hashSeed(...parts, 0x51d, k));
  n = (n & ((1n << 126n) - 1n)) | (1n << 126n); // fixed top bit: 39 digits, no leading zero
  return `2.25.${n.toString()}`;
}

/** Implementation Class UID of files written by this package (fixed). */
export const IMPLEMENTATION_CLASS_UID = makeUid(0x1a9f10, 1);
export const IMPLEMENTATION_VERSION_NAME = "LUNGFLOW_PH_0_1";
