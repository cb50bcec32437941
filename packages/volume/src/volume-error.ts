import { LungflowError } from "./errors.js";

/** Stable codes of {@link VolumeError}. */
export type VolumeErrorCode =
  | "BAD_SHAPE"
  | "BAD_SPACING"
  | "BAD_BBOX"
  | "BAD_SYMMETRY"
  | "BAD_ARGUMENT";

/**
 * Thrown by the volume operations on invalid input (a shape that does not match the data, a
 * non-positive spacing, a box outside the volume, a symmetry index outside 0..47). These are
 * programming errors of the caller, never data errors: fix the call.
 */
export class VolumeError extends LungflowError {
  declare readonly _tag: "VolumeError";
  declare readonly code: VolumeErrorCode;

  constructor(
    code: VolumeErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("VolumeError", code, message, context, options);
  }
}
