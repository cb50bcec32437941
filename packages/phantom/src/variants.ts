/**
 * Broken variants: one way each in which a series folder departs from a clean, complete,
 * axial series, for robustness tests of readers.
 */
import type { Rng } from "./rng.js";
import type { Phantom } from "./types.js";

/**
 * - `overlapping-acquisitions`: a second acquisition (AcquisitionNumber 2, same series
 *   UID) re-covers slices `overlap[0]..overlap[1]-1` at the same positions; acquisition 1
 *   is complete (keep the acquisition with the most slices).
 * - `localizer`: a coronal LOCALIZER image (ImageType ORIGINAL\PRIMARY\LOCALIZER, same
 *   series UID, Rows = slices) is mixed in.
 * - `second-series`: a second series (another SeriesInstanceUID, SeriesNumber 3, every
 *   other slice, double SliceThickness) in the same folder.
 * - `missing-slice`: slice `missingSlice` (never the first or last) is not written.
 * - `duplicate-slice`: slice `duplicateSlice` is written twice (a byte-identical copy,
 *   same SOPInstanceUID, named `copy-of-<name>`).
 * - `truncated-file`: the file of slice `truncatedSlice` is cut to 60% of its bytes.
 * - `non-dicom-file`: a plain-text file `notes.dcm` sits among the slices.
 * - `gantry-tilt`: GantryDetectorTilt = `gantryTiltDeg` (15), ImageOrientationPatient
 *   [1,0,0, 0,cos t,sin t], positions still stepping along z; pixels sampled from the
 *   phantom on the tilted planes (nearest voxel).
 * - `sagittal`: the volume re-sliced into sagittal planes (ImageOrientationPatient
 *   [0,1,0, 0,0,-1], one file per column x, Rows = slices, no padding).
 */
export type BrokenVariant =
  | "overlapping-acquisitions"
  | "localizer"
  | "second-series"
  | "missing-slice"
  | "duplicate-slice"
  | "truncated-file"
  | "non-dicom-file"
  | "gantry-tilt"
  | "sagittal";

export const BROKEN_VARIANTS: readonly BrokenVariant[] = [
  "overlapping-acquisitions",
  "localizer",
  "second-series",
  "missing-slice",
  "duplicate-slice",
  "truncated-file",
  "non-dicom-file",
  "gantry-tilt",
  "sagittal",
];

/** The plan of a variant (what to write differently) and its documented facts. */
export interface VariantPlan {
  overlap?: [number, number];
  localizer?: boolean;
  secondSeries?: boolean;
  missingSlice?: number;
  duplicateSlice?: number;
  truncatedSlice?: number;
  nonDicom?: boolean;
  gantryTiltDeg: number;
  sagittal?: boolean;
  broken: {
    overlap?: [number, number];
    missingSlice?: number;
    duplicateSlice?: number;
    truncatedSlice?: number;
    gantryTiltDeg?: number;
  };
}

export function planVariant(v: BrokenVariant | null, p: Phantom, rng: Rng): VariantPlan {
  const nz = p.shape[0];
  const inner = () => rng.int(2, nz - 3);
  switch (v) {
    case null:
      return { gantryTiltDeg: 0, broken: {} };
    case "overlapping-acquisitions": {
      const a = Math.floor(nz * 0.3);
      const b = Math.floor(nz * 0.6);
      return { overlap: [a, b], gantryTiltDeg: 0, broken: { overlap: [a, b] } };
    }
    case "localizer":
      return { localizer: true, gantryTiltDeg: 0, broken: {} };
    case "second-series":
      return { secondSeries: true, gantryTiltDeg: 0, broken: {} };
    case "missing-slice": {
      const k = inner();
      return { missingSlice: k, gantryTiltDeg: 0, broken: { missingSlice: k } };
    }
    case "duplicate-slice": {
      const k = inner();
      return { duplicateSlice: k, gantryTiltDeg: 0, broken: { duplicateSlice: k } };
    }
    case "truncated-file": {
      const k = inner();
      return { truncatedSlice: k, gantryTiltDeg: 0, broken: { truncatedSlice: k } };
    }
    case "non-dicom-file":
      return { nonDicom: true, gantryTiltDeg: 0, broken: {} };
    case "gantry-tilt":
      return { gantryTiltDeg: 15, broken: { gantryTiltDeg: 15 } };
    case "sagittal":
      return { sagittal: true, gantryTiltDeg: 0, broken: {} };
  }
}
