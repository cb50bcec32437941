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
      rssMiB: number;
    }
  /** This patient failed; the rest go on. */
  | { type: "failed"; id: string; dir: string; stage: string; error: SerializedError }
  /** In flight when the run was aborted: nothing of it was written. */
  | { type: "discarded"; id: string }
  /** Labels imported after the patients (`labels` option). */
  | { type: "labels"; count: number; changed: number; ignored: string[] }
  /** The last event. */
  | { type: "finished"; summary: IngestSummary };

/** Totals of one ingest run (also the body of `--report`). */
export interface IngestSummary {
  root: string;
  store: string;
  workers: number;
  total: number;
  ingested: number;
  replaced: number;
  skipped: number;
  failed: number;
  discarded: number;
  /** Patients never started because the run was stopped. */
  notStarted: number;
  /** True if the run was stopped (drain or abort) before every patient was seen. */
  stopped: boolean;
  durationMs: number;
  /** DICOM bytes of the ingested patients. */
  dicomBytes: number;
  patientsPerMin: number;
  dicomMBps: number;
  /** Sum over ingested patients of each stage, milliseconds. */
  stageMs: Record<keyof StageTimings, number>;
  failures: { id: string; stage: string; code: string; message: string }[];
}
