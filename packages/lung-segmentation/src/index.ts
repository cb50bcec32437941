/**
 * @lungflow/lung-segmentation: kdsb17's lung mask and crop (Otsu threshold, per-slice
 * opening and background removal, 3D dilation, largest component, tail drop, bounding box),
 * exact to the scipy/scikit-image reference and fast, plus an `improved` mode that removes
 * the airways, bowel gas and table air and keeps juxtapleural nodules.
 *
 * ```ts
 * import { makePhantom } from "@lungflow/phantom";
 * import { makeVolume } from "@lungflow/volume";
 * import { segmentLungs } from "@lungflow/lung-segmentation";
 * const p = makePhantom({ seed: 1, slices: 120, matrix: 160, pixelSpacing: 1, sliceSpacing: 1 });
 * const seg = segmentLungs(makeVolume(p.hu, p.shape, p.spacing, p.origin), { mode: "improved" });
 * seg.bbox; // [[z0, z1], [y0, y1], [x0, x1]] in the input, end-exclusive
 * seg.mask; // tight lung mask, cropped; seg.hu: the HU cropped the same way
 * ```
 */

export { binaryDilate, binaryErode, binaryOpening, type Shape3 } from "./box-morphology.js";
export { type CleanSlabArgs, cleanKernel } from "./clean-candidates.js";
export { type Connectivity, labelComponents, labelRuns, type RunLabels } from "./label-runs.js";
export { type LungRegionOptions, lungRegion } from "./lung-region.js";
export {
  type HistogramSlabArgs,
  histogramInt16,
  histogramKernel,
  otsuFromHistogram,
  otsuThreshold,
} from "./otsu-threshold.js";
export { type LungSegmentation, type SegmentationStats, segmentLungs } from "./segment-lungs.js";
export type { SegmentLungsOptions } from "./segment-options.js";
export { SegmentationError, type SegmentationErrorCode } from "./segmentation-error.js";
export {
  KDSB17_KERNELS,
  type SegmentationParams,
  segmentationParams,
} from "./segmentation-params.js";
