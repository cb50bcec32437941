/**
 * @lungflow/phantom: deterministic synthetic chest CT phantoms (HU volume + lung, airway
 * and nodule ground truth) and cohorts of them written as real DICOM series.
 *
 * ```ts
 * import { makePhantom } from "@lungflow/phantom";
 * const p = makePhantom({ seed: 7, nodules: 3, cancer: true }); // 48 x 96 x 96, 0.7 mm
 * p.hu;        // Int16Array [z, y, x], HU
 * p.lungMask;  // Uint8Array, 1 = lung (vessels included, nodules and airways excluded)
 * p.label;     // 1: a nodule >= 10 mm is present
 * ```
 */
export { HU_MAX, HU_MIN, makePhantom } from "./make-phantom.js";
export { hashSeed, Rng } from "./rng.js";
export {
  CANCER_DIAMETER_MM,
  type Nodule,
  type NoduleSpec,
  type Phantom,
  type PhantomOptions,
} from "./types.js";
