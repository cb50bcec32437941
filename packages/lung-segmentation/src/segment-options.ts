import type { SlabRunner } from "@lungflow/volume";
import { SegmentationError } from "./segmentation-error.js";
import { DEFAULT_TAIL_FRACTION } from "./segmentation-params.js";

/** Options of `segmentLungs`. Lengths in voxels of the (1 mm) input unless named otherwise. */
export interface SegmentLungsOptions {
  /**
   * `"kdsb17"` (default): the method exactly as pinned (equal to the scipy/scikit-image
   * reference voxel for voxel). `"improved"`: the same, plus the four fixes below (each can
   * be switched off on its own).
   */
  mode?: "kdsb17" | "improved";
  /** Tail drop: slices whose cumulative box-mask share is below this or above 1 - this go. Default 0.005. */
  tailFraction?: number;
  /**
   * Improved: a 3D component touching a side face of the volume (x or y) or both its
   * first and last slice is outside air or table, never lung: it is not chosen.
   */
  borderComponents?: boolean;
  /**
   * Improved: drop pieces of the tight mask (26-connected) smaller than
   * `minComponentFraction` of the largest piece, or lying wholly below it (bowel gas).
   */
  limitComponents?: boolean;
  /** Improved: pieces smaller than this fraction of the largest are dropped. Default 0.05. */
  minComponentFraction?: number;
  /**
   * Improved: remove the trachea and main bronchi, grown slice by slice down from the
   * superior end of the mask over voxels below `airwayHu`.
   */
  removeAirways?: boolean;
  /** Improved: airway lumen threshold (HU). Default -950. */
  airwayHu?: number;
  /**
   * Improved: give back the pleura the opening shaved off, close the tight mask per slice
   * and per piece with a square of side 2 `closingRadius` + 1, fill its holes and the
   * nodule-sized pockets under its convex hull, so juxtapleural nodules and vessels stay in
   * the lung.
   */
  closeNodules?: boolean;
  /** Improved: radius (voxels) of the closing. Default 10. */
  closingRadius?: number;
  /**
   * Improved: pockets between a lung's cross-section and its convex hull that fit a disc
   * of this diameter (mm) on every slice they span are filled: juxtapleural nodules up to
   * this size (0 turns it off). Default 30; the heart's notch is a longer crescent.
   */
  maxNoduleMm?: number;
  /** Lungs smaller than this (mL at the input spacing) are NO_LUNG_FOUND. Default 20. */
  minLungVolumeMl?: number;
  /**
   * LUNG_TOUCHES_BORDER when the mask's cross-section on the first or last slice exceeds
   * this fraction of its largest cross-section, or when the border-touching regions
   * removed as background that hold no corner of their slice (so are not the outside air:
   * a lung cut by the side of the field of view) add up to more than this fraction of the
   * lung volume. Default 0.05; `Infinity` turns the check off.
   */
  borderTolerance?: number;
  /** Also return the cropped box mask. Default false. */
  boxMask?: boolean;
  /** File or patient id, named in errors. */
  source?: string;
  /**
   * Splits the per-slice steps (the Otsu histogram, the candidates' opening and background
   * removal) into parts a threaded runner may run at once; the 3D steps stay on the calling
   * thread. Same mask whatever the split. Default: all on the calling thread.
   */
  runner?: SlabRunner;
}

export type ResolvedOptions = Required<Omit<SegmentLungsOptions, "source" | "runner">> & {
  source?: string;
  /** True when a larger z index is more superior (the volume's z axis points to +Z in LPS). */
  up: boolean;
};

const bad = (message: string) => new SegmentationError("BAD_INPUT", message, {});

/** Fills defaults (fixes on in improved mode, off in kdsb17 mode) and validates. */
export function resolveOptions(
  o: SegmentLungsOptions,
  zAxis: readonly number[] = [0, 0, 1],
): ResolvedOptions {
  const mode = o.mode ?? "kdsb17";
  if (mode !== "kdsb17" && mode !== "improved")
    throw bad(`mode must be "kdsb17" or "improved", got ${String(mode)}`);
  const imp = mode === "improved";
  const r: ResolvedOptions = {
    mode,
    tailFraction: o.tailFraction ?? DEFAULT_TAIL_FRACTION,
    borderComponents: o.borderComponents ?? imp,
    limitComponents: o.limitComponents ?? imp,
    minComponentFraction: o.minComponentFraction ?? 0.05,
    removeAirways: o.removeAirways ?? imp,
    airwayHu: o.airwayHu ?? -950,
    closeNodules: o.closeNodules ?? imp,
    closingRadius: o.closingRadius ?? 10,
    maxNoduleMm: o.maxNoduleMm ?? 30,
    minLungVolumeMl: o.minLungVolumeMl ?? 20,
    borderTolerance: o.borderTolerance ?? 0.05,
    boxMask: o.boxMask ?? false,
    source: o.source,
    up: zAxis[2] >= 0,
  };
  if (!(r.tailFraction >= 0 && r.tailFraction < 0.5))
    throw bad(`tailFraction must be in [0, 0.5), got ${r.tailFraction}`);
  if (!(r.minComponentFraction >= 0 && r.minComponentFraction <= 1))
    throw bad(`minComponentFraction must be in [0, 1], got ${r.minComponentFraction}`);
  if (!Number.isInteger(r.closingRadius) || r.closingRadius < 0)
    throw bad(`closingRadius must be a non-negative integer, got ${r.closingRadius}`);
  if (!(r.minLungVolumeMl >= 0))
    throw bad(`minLungVolumeMl must be >= 0, got ${r.minLungVolumeMl}`);
  if (!(r.borderTolerance >= 0))
    throw bad(`borderTolerance must be >= 0, got ${r.borderTolerance}`);
  return r;
}
