import type { Volume } from "@lungflow/volume";
import { closeSlices } from "./close-slices.js";
import { recoverBoundary } from "./recover-boundary.js";
import { SegmentationError } from "./segmentation-error.js";

/** Options of {@link lungRegion}. */
export interface LungRegionOptions {
  /** Radius (voxels) of the per-slice closing (default 10, as the improved mode's). */
  closingRadius?: number;
  /** Pockets under a lung's convex hull that fit a disc this wide (mm) are filled (default 30). */
  maxNoduleMm?: number;
}

/**
 * The lung *region* of a stored patient: its tight mask (air-like voxels of the lungs, which
 * leaves out every nodule and vessel, and the nodules that touch the pleura altogether) with
 * the improved mode's `closeNodules` fix applied: the pleura the opening shaved off given
 * back, a per-slice, per-lung closing, holes filled, and nodule-sized pockets under each
 * lung's convex hull filled. Inside it: the parenchyma, its vessels and every nodule up to
 * `maxNoduleMm`, juxtapleural ones included; outside it: chest wall, mediastinum, heart,
 * the table. The classifier looks only inside it (`lungInput`), so that what is dense there
 * is a vessel or a nodule, never the ribs or the heart every chest has.
 *
 * Works on a mask of either mode (on an improved one it adds little). `hu` is the stored
 * (cropped, 1 mm) HU volume, `mask` its stored mask, `threshold` the Otsu threshold the
 * patient was segmented with (`attrs.otsuThreshold`). Returns a new array; `mask` is unchanged.
 */
export function lungRegion(
  hu: Volume<Int16Array>,
  mask: Uint8Array,
  threshold: number,
  o: LungRegionOptions = {},
): Uint8Array {
  const r = o.closingRadius ?? 10;
  const mm = o.maxNoduleMm ?? 30;
  const n = hu.shape[0] * hu.shape[1] * hu.shape[2];
  const bad = (message: string, extra: Record<string, unknown>) =>
    new SegmentationError("BAD_INPUT", message, extra);
  if (mask.length !== n)
    throw bad(`mask holds ${mask.length} voxels, the volume ${n}`, { shape: hu.shape });
  if (!Number.isFinite(threshold))
    throw bad(`the Otsu threshold must be a finite number, got ${threshold}`, { threshold });
  if (!Number.isInteger(r) || r < 0)
    throw bad(`closingRadius must be a non-negative integer, got ${r}`, { closingRadius: r });
  if (!(mm >= 0)) throw bad(`maxNoduleMm must be >= 0, got ${mm}`, { maxNoduleMm: mm });
  const region = mask.slice();
  recoverBoundary(hu, region, threshold);
  closeSlices(region, hu.shape, r, [mm / hu.spacing[1], mm / hu.spacing[2]]);
  return region;
}
