import { LungflowError } from "@lungflow/volume";

/** Stable codes of {@link SegmentationError}. */
export type SegmentationErrorCode =
  /** Nothing below the Otsu threshold survives the cleaning, or the lungs found are implausibly small. */
  | "NO_LUNG_FOUND"
  /** The lungs reach the first/last slice or the side of the volume: the scan cuts them. */
  | "LUNG_TOUCHES_BORDER"
  /** The input is not a 3D Int16Array volume (or the options are invalid): fix the call. */
  | "BAD_INPUT";

/**
 * Thrown by `segmentLungs` when a volume cannot give a lung mask. The context names the
 * `source` passed in the options (file or patient id), the volume shape and the reason
 * (threshold, voxel counts, the faces touched), so a batch can log it and go on.
 */
export class SegmentationError extends LungflowError {
  declare readonly _tag: "SegmentationError";
  declare readonly code: SegmentationErrorCode;

  constructor(
    code: SegmentationErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("SegmentationError", code, message, context, options);
  }
}
