import type { SerializedError } from "./errors.js";
import type { StageTimings } from "./task.js";

/** Events of {@link ingest}, in the order they happen. */
export type IngestEvent =
  /** Leftovers of a crashed earlier run were cleaned up (or a finished write moved in). */
  | { type: "recovered"; rolledForward: string[]; removed: string[] }
  /** The patient folders were listed. */
  | { type: "discovered"; total: number; root: string }
  /** A worker took the patient. */
  | { type: "started"; id: string; dir: string }
  /** The store already holds this exact source (same `sourceHash`). */
  | { type: "skipped"; id: string; reason: "unchanged"; sourceHash: string; dicomBytes: number }
  /** Written (or replaced) atomically. */
  | {
      type: "ingested";
      id: string;
      replaced: boolean;
      sourceHash: string;
      dicomBytes: number;
      fileCount: number;
      shape: [number, number, number];
      lungVolumeMl: number;
      warnings: number;
      timings: StageTimings;
      /** Parts of this patient's split work (slices, z-slabs) that idle pool threads did. */
      helpedParts: number;
      rssMiB: number;
    }
  /** This patient failed; the rest go on. */
  | { type: "failed"; id: string; dir: string; stage: string; error: SerializedError }
  /** In flight when the run was aborted: nothing of it was written. */
  | { type: "discarded"; id: string }
  /**
   * The store cannot be written (`DISK_FULL`, `READ_ONLY_FS`, `PERMISSION_DENIED`, first met
   * by patient `id`): no further patient starts, those in flight finish (or fail with the
   * same code), labels are not imported. Re-run once the cause is fixed.
   */
  | { type: "halted"; id: string; code: string; message: string }
  /** Labels imported after the patients (`labels` option). */
  | { type: "labels"; count: number; changed: number; ignored: string[] }
  /** The last event. */
  | { type: "finished"; summary: IngestSummary };

/** Totals of one ingest run (also the body of `--report`). */
export interface IngestSummary {
  root: string;
  store: string;
  /** Threads of this process (0 with `queue`: the queue's workers did the work). */
  workers: number;
  /** The queue the patients went through (`ingest --queue`). */
  queue?: { url: string; name: string };
  total: number;
  ingested: number;
  replaced: number;
  skipped: number;
  failed: number;
  discarded: number;
  /** Patients never started because the run was stopped. */
  notStarted: number;
  /** Their ids, in folder order. */
  notStartedIds: string[];
  /** True if the run was stopped (drain, abort or halt) before every patient was seen. */
  stopped: boolean;
  /** Why the run halted: the store write failure that stopped it (see the `halted` event). */
  halted?: { id: string; code: string; message: string };
  durationMs: number;
  /** DICOM bytes of the ingested patients. */
  dicomBytes: number;
  patientsPerMin: number;
  dicomMBps: number;
  /** Sum over ingested patients of each stage, milliseconds. */
  stageMs: Record<keyof StageTimings, number>;
  failures: { id: string; stage: string; code: string; message: string }[];
}
