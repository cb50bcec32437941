import { LungflowError } from "@lungflow/volume";

/**
 * Stable codes of {@link PatchStreamError}.
 * - `BAD_OPTION`: an option out of range (batch size, non-cubic patches with symmetries...).
 * - `NO_PATIENTS`: the selection (ids or split) holds no patient.
 * - `UNKNOWN_PATIENT`: an id that is not in the source.
 * - `NO_LABEL`: a classifier volume without a label (train on labelled patients).
 * - `WORKER_FAILED`: a worker task failed (read, decode, sampling); `cause` holds why.
 * - `ABORTED`: the stream was aborted through its signal.
 */
export type PatchStreamErrorCode =
  | "BAD_OPTION"
  | "NO_PATIENTS"
  | "UNKNOWN_PATIENT"
  | "NO_LABEL"
  | "NO_FEATURES"
  | "WORKER_FAILED"
  | "ABORTED";

/** A failure of the patch stream; context names the source, patient and task where known. */
export class PatchStreamError extends LungflowError {
  declare readonly code: PatchStreamErrorCode;
  constructor(
    code: PatchStreamErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("PatchStreamError", code, message, context, options);
  }
}
