/**
 * kdsb17's morphology as {@link segmentLungs} applies it (kernel sides in voxels, z y x).
 * The same values are recorded with every stored patient (`segmentationParams`), and a
 * store refuses an ingest made with other ones: keeping them here, where the kernels run,
 * leaves no second copy to keep in step.
 */
export const KDSB17_KERNELS = {
  /** Per-slice binary opening of the candidates with a 5x5 square, twice. */
  opening: { kernel: [5, 5], iterations: 2, perSlice: true },
  /** 3D dilation that joins the lungs (and the largest component of which is kept). */
  dilateJoin: { kernel: [5, 1, 5], iterations: 4 },
  /** Dilation of the kept component giving the box mask, which decides the crop. */
  dilateCrop: { kernel: [1, 5, 1], iterations: 4 },
} as const;

/** Default share of the box mask dropped as z tails (see `SegmentLungsOptions.tailFraction`). */
export const DEFAULT_TAIL_FRACTION = 0.005;

/** Voxels a box kernel of `side` voxels reaches on each side after `iterations` passes. */
export function kernelReach(side: number, iterations: number): number {
  return ((side - 1) / 2) * iterations;
}

/** The segmentation's part of the preprocessing parameters recorded with each patient. */
export interface SegmentationParams {
  thresholdMethod: "otsu";
  maskMode: "kdsb17" | "improved";
  /** {@link KDSB17_KERNELS}, as plain JSON. */
  kernels: Record<string, { kernel: number[]; iterations: number; perSlice?: boolean }>;
  tailFraction: number;
}

/**
 * What `segmentLungs` runs with `mode: maskMode` and `tailFraction`, as the store records
 * it (the pipeline adds the resampling's spacing and interpolation).
 */
export function segmentationParams(
  maskMode: "kdsb17" | "improved" = "kdsb17",
  tailFraction: number = DEFAULT_TAIL_FRACTION,
): SegmentationParams {
  return {
    thresholdMethod: "otsu",
    maskMode,
    kernels: JSON.parse(JSON.stringify(KDSB17_KERNELS)),
    tailFraction,
  };
}
