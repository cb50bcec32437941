import { segmentationParams } from "@lungflow/lung-segmentation";
import type { PreprocessingParams } from "@lungflow/patch-store";

/** Lung mask modes of lung-segmentation. */
export type MaskMode = "kdsb17" | "improved";

/**
 * The preprocessing parameters the ingest writes with (kdsb17's, see ARCHITECTURE.md):
 * the 1 mm trilinear resampling, then what lung-segmentation runs (its threshold, kernels
 * and tail fraction, from the package that applies them). Stored in the store's root
 * attributes; a store made with other values refuses these.
 */
export function preprocessingParams(
  maskMode: MaskMode = "kdsb17",
  tailFraction?: number,
): PreprocessingParams {
  return {
    spacing: [1, 1, 1],
    interpolation: "trilinear",
    ...segmentationParams(maskMode, tailFraction),
  };
}
