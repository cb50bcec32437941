/**
 * @lungflow/phantom: deterministic synthetic chest CT phantoms (HU volume + lung, airway
 * and nodule ground truth), written as real DICOM series (dcmjs) and as labelled cohorts.
 *
 * ```ts
 * import { makePhantom, writeSeries, writeCohort } from "@lungflow/phantom";
 * const p = makePhantom({ seed: 7, nodules: 3, cancer: true }); // 48 x 96 x 96, 0.7 mm
 * p.hu;        // Int16Array [z, y, x], HU
 * p.lungMask;  // Uint8Array, 1 = lung (vessels included, nodules and airways excluded)
 * p.label;     // 1: a nodule >= 10 mm is present
 * await writeSeries(p, "/tmp/p7", { transferSyntax: "implicit", variant: "missing-slice" });
 * await writeCohort({ out: "/tmp/cohort", patients: 8, seed: 1 }); // + stage1_labels.csv
 * // adult chests as a clinical CT scans them (512 x 512 over 340-400 mm, 1-2.5 mm slices):
 * await writeCohort({ out: "/tmp/real", patients: 8, seed: 1, preset: "realistic" });
 * ```
 */

export type { BodyFrame } from "./anatomy.js";
export { type EncodingOptions, TRANSFER_SYNTAX } from "./encoding.js";
export { type PhantomGeometry, phantomGeometry } from "./geometry.js";
export {
  GROUND_TRUTH_DIR,
  type GroundTruth,
  readGroundTruth,
  type TruthJson,
} from "./ground-truth.js";
export { HU_MAX, HU_MIN, makePhantom } from "./make-phantom.js";
export { REALISTIC_PRESET } from "./realistic.js";
export {
  CANCER_DIAMETER_MM,
  type Nodule,
  type NoduleSpec,
  type Phantom,
  type PhantomOptions,
  type PhantomPreset,
} from "./types.js";
export { BROKEN_VARIANTS, type BrokenVariant } from "./variants.js";
export {
  type CohortOptions,
  type CohortPatient,
  type WrittenCohort,
  writeCohort,
} from "./write-cohort.js";
export {
  type WriteSeriesOptions,
  type WrittenFile,
  type WrittenSeries,
  writeSeries,
} from "./write-series.js";
