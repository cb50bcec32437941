import { LungflowError } from "@lungflow/volume";

/**
 * Stable codes of {@link ViewerError}.
 * - `BAD_REQUEST`: a request names an unknown plane or array, or a slice index outside the
 *   volume (HTTP 400).
 * - `FEATURES_UNAVAILABLE`: a feature overlay was asked for an encoder whose identity
 *   symmetry (`s0`) is not stored for the patient (HTTP 404).
 * - `PREDICTIONS_INVALID`: the `--predictions` CSV is not `id,cancer` with probabilities.
 * - `LISTEN_FAILED`: the server could not listen on the port (in use, not permitted).
 */
export type ViewerErrorCode =
  | "BAD_REQUEST"
  | "FEATURES_UNAVAILABLE"
  | "PREDICTIONS_INVALID"
  | "LISTEN_FAILED";

/** A failure of the viewer itself (store failures stay `StoreError` / `ChunkDecodeError`). */
export class ViewerError extends LungflowError {
  declare readonly code: ViewerErrorCode;
  constructor(
    code: ViewerErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("ViewerError", code, message, context, options);
  }
}
