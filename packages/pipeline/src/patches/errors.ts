import { LungflowError } from "@lungflow/volume";

/**
 * Stable codes of {@link PatchStreamError}.
 * - `BAD_OPTION`: an option out of range (batch size, non-cubic patches with symmetries...).
 * - `NO_PATIENTS`: the selection (ids or split) holds no patient.
 * - `UNKNOWN_PATIENT`: an id that is not in the source.
 * - `NO_LABEL`: a classifier volume without a label (train on labelled patients).
 * - `BAD_ARRAY`: a patient's array (stored or in memory) is missing or does not match its
 *   shape (thrown in a worker, so it reaches the stream as the message of `WORKER_FAILED`).
 * - `WORKER_FAILED`: a worker task failed (read, decode, sampling); `cause` holds why.
 * - `ABORTED`: the stream was aborted through its signal (or a task was cancelled).
 * - `INTERNAL`: a broken invariant of the stream itself (a bug: report it).
 */
export type PatchStreamErrorCode =
  | "BAD_OPTION"
  | "NO_PATIENTS"
  | "UNKNOWN_PATIENT"
  | "NO_LABEL"
  | "NO_FEATURES"
  | "BAD_ARRAY"
  | "WORKER_FAILED"
  | "ABORTED"
  | "INTERNAL";

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
