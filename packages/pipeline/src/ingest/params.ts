import type { PreprocessingParams } from "@lungflow/patch-store";

/** Lung mask modes of lung-segmentation. */
export type MaskMode = "kdsb17" | "improved";

/**
 * The preprocessing parameters the ingest writes with (kdsb17's, see ARCHITECTURE.md).
 * Stored in the store's root attributes; a store made with other values refuses these.
 */
export function preprocessingParams(
  maskMode: MaskMode = "kdsb17",
  tailFraction = 0.005,
): PreprocessingParams {
  return {
    spacing: [1, 1, 1],
    interpolation: "trilinear",
    thresholdMethod: "otsu",
    maskMode,
    kernels: {
      opening: { kernel: [5, 5], iterations: 2, perSlice: true },
      dilateJoin: { kernel: [5, 1, 5], iterations: 4 },
      dilateCrop: { kernel: [1, 5, 1], iterations: 4 },
    },
    tailFraction,
  };
}
