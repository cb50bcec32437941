import { LungflowError } from "@lungflow/volume";

/** Stable codes of {@link GmcaeError}. */
export type GmcaeErrorCode =
  | "BAD_CONFIG" // a config (file or object) fails validation; context.issues lists every problem
  | "BAD_BATCH" // a batch from the data source has the wrong shape
  | "NO_DATA" // the data source ended before the first step of an epoch
  | "NON_FINITE" // loss or gradient became NaN/Inf (training stops, last good checkpoint kept)
  | "BAD_CHECKPOINT" // a run/checkpoint directory is missing or inconsistent
  | "BAD_MODEL"; // a loaded model is not a GMCAE, or predictions do not fit the mixture of m components

/** Thrown by @lungflow/gmcae; `context` names the file, epoch/step or config key involved. */
export class GmcaeError extends LungflowError {
  constructor(
    code: GmcaeErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("GmcaeError", code, message, context, options);
  }
}
