import { LungflowError } from "@lungflow/volume";

/**
 * Stable codes of {@link StoreError}.
 * - `STORE_NOT_FOUND`: no store at the path (open with `create: true` to make one).
 * - `STORE_INVALID`: the root metadata is missing, unreadable or of another schema.
 * - `PARAMS_MISMATCH`: the store was made with other preprocessing parameters.
 * - `STORE_LOCKED`: another live process holds the store's write lock.
 * - `INVALID_PATIENT_ID`: an id that cannot name a folder (`/`, leading `.`, empty...).
 * - `PATIENT_CORRUPT`: a patient's metadata or arrays are unreadable or inconsistent.
 * - `PATIENT_NOT_FOUND`: reading arrays of a patient that is not in the store.
 * - `INVALID_ARGUMENT`: a bad option (patch size, split fraction, shapes that disagree).
 * - `SPLIT_INVALID`: a split cannot be made (e.g. no labelled patients).
 * - `INVALID_ENCODER_ID`: an encoder id that cannot name a folder (same rule as patient ids).
 * - `FEATURES_NOT_FINITE`: encoder features holding NaN or ±Infinity (nothing is written).
 * - `SOURCE_CHANGED`: the patient was re-ingested (other source hash or ingest time) after the
 *   caller read it; features computed from the old volume are not written. Recompute them.
 * - `FEATURES_CORRUPT`: a stored feature array's metadata is unreadable or inconsistent.
 * - `CHUNK_MISSING`: a chunk file of a stored feature array is missing (every chunk is written,
 *   so this is damage; rewrite the features).
 * - `DISK_FULL`: a store write failed with ENOSPC or EDQUOT (no space or quota left). Names
 *   the path, what was being written and the free bytes; nothing of that write is kept.
 * - `PERMISSION_DENIED`: a store write failed with EACCES or EPERM.
 * - `READ_ONLY_FS`: a store write failed with EROFS (the store is on a read-only filesystem).
 * - `PATIENT_CLAIMED`: another live writer holds the patient's claim (many writers share
 *   the store); retry later, or wait with `waitMs`.
 * - `CLAIM_LOST`: the writer's claim ran out before it moved the patient in (it was frozen or
 *   cut off longer than the lease); nothing was moved in, another writer may hold it.
 * - `CHUNK_CHECKSUM`: a chunk's `crc32c` checksum is absent (the chunk is shorter than its 4
 *   bytes) or does not match its bytes (`context.reason` `"too-short"` or `"mismatch"`). Thrown
 *   by the codec; a read reports it as the `cause` of a `ChunkDecodeError` naming the chunk.
 * - `WRITE_FAILED`: a store write failed with another operating-system error (EIO, EMFILE...).
 *   The four write failures leave the store as it was before the write (see `withWriteErrors`).
 */
export type StoreErrorCode =
  | "STORE_NOT_FOUND"
  | "STORE_INVALID"
  | "PARAMS_MISMATCH"
  | "STORE_LOCKED"
  | "INVALID_PATIENT_ID"
  | "PATIENT_CORRUPT"
  | "PATIENT_NOT_FOUND"
  | "INVALID_ARGUMENT"
  | "SPLIT_INVALID"
  | "INVALID_ENCODER_ID"
  | "FEATURES_NOT_FINITE"
  | "SOURCE_CHANGED"
  | "FEATURES_CORRUPT"
  | "CHUNK_MISSING"
  | "CHUNK_CHECKSUM"
  | "DISK_FULL"
  | "PERMISSION_DENIED"
  | "READ_ONLY_FS"
  | "WRITE_FAILED"
  | "PATIENT_CLAIMED"
  | "CLAIM_LOST";

/** Any failure of the patch store other than a chunk that does not decode. */
export class StoreError extends LungflowError {
  declare readonly code: StoreErrorCode;
  constructor(
    code: StoreErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("StoreError", code, message, context, options);
  }
}

/**
 * A chunk that could not be decoded (or encoded): truncated file, bad checksum, bad zstd
 * frame. Thrown by reads and collected by `verify()`. The store is damaged: re-ingest the
 * patient (`lungflow ingest --force`) to repair it.
 */
export class ChunkDecodeError extends LungflowError {
  declare readonly context: {
    chunkPath: string;
    codec: string;
    direction: "encode" | "decode";
    patientId: string;
    array: string;
  };
  constructor(
    context: {
      chunkPath: string;
      codec: string;
      direction: "encode" | "decode";
      patientId: string;
      array: string;
    },
    options?: { cause?: unknown },
  ) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : "";
    super(
      "ChunkDecodeError",
      "CHUNK_DECODE",
      `chunk ${context.chunkPath} of patient ${context.patientId} failed to ${context.direction} (codec ${context.codec})${why}`,
      context,
      options,
    );
  }
}

/** One problem found in a labels CSV, with its 1-based line number. */
export interface LabelProblem {
  line: number;
  message: string;
}

/**
 * A labels CSV that cannot be imported: every problem is listed with its line number and
 * nothing is applied.
 */
export class LabelsError extends LungflowError {
  declare readonly context: { file: string; problems: LabelProblem[] };
  constructor(file: string, problems: LabelProblem[]) {
    const shown = problems
      .slice(0, 5)
      .map((p) => `  line ${p.line}: ${p.message}`)
      .join("\n");
    const more = problems.length > 5 ? `\n  ... and ${problems.length - 5} more` : "";
    super(
      "LabelsError",
      "LABELS_INVALID",
      `labels file ${file} has ${problems.length} problem(s); nothing was applied:\n${shown}${more}`,
      { file, problems },
    );
  }
}
