import { lungRegion } from "@lungflow/lung-segmentation";
import type { PatientAttrs } from "@lungflow/patch-store";
import { makeVolume, type Vec3 } from "@lungflow/volume";
import { PatchStreamError } from "./errors.js";

/**
 * A stored patient's HU as the classifier sees it: every voxel outside its lung region
 * (lung-segmentation's `lungRegion` of the stored mask and Otsu threshold) set to -1000 (air,
 * -1 once normalised). In place on `hu` (pass a copy to keep the original); returns it. A
 * patient without an Otsu threshold is `BAD_ARRAY` naming it.
 */
export function regionHu(
  hu: Int16Array,
  shape: Vec3,
  mask: Uint8Array,
  attrs: Pick<PatientAttrs, "id" | "spacing" | "origin" | "otsuThreshold">,
): Int16Array {
  if (typeof attrs.otsuThreshold !== "number" || !Number.isFinite(attrs.otsuThreshold))
    throw new PatchStreamError(
      "BAD_ARRAY",
      `patient ${attrs.id} has no Otsu threshold in its attributes: the lung region cannot be made (re-ingest it, or set head.region false)`,
      { patientId: attrs.id },
    );
  const region = lungRegion(
    makeVolume(hu, shape, attrs.spacing, attrs.origin),
    mask,
    attrs.otsuThreshold,
  );
  for (let i = 0; i < hu.length; i++) if (region[i] === 0) hu[i] = -1000;
  return hu;
}
