import type { MessagePort } from "node:worker_threads";
import type { PreprocessingParams } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";
import type { SerializedError } from "./errors.js";
import type { MaskMode } from "./params.js";

/** What the main thread sends a worker for one patient (small: paths and options only). */
export interface IngestTask {
  id: string;
  dir: string;
  store: string;
  params: PreprocessingParams;
  maskMode: MaskMode;
  chunk: number;
  zstdLevel: number;
  force: boolean;
  lungflowVersion: string;
  /** Lease of the patient's claim, ms (default 60 000; see patch-store's `claimPatient`). */
  leaseMs?: number;
  /** The source hash to store instead of the folder's (DICOMweb: the hash of its QIDO listing). */
  sourceHash?: string;
  /** How long to wait for another writer holding the patient, ms (default 0). */
  claimWaitMs?: number;
  /**
   * Set by the ingest pool: where this patient's thread posts the jobs idle threads may
   * help with (see `IngestPool`). Without it everything runs on the patient's thread.
   */
  slabPort?: MessagePort;
}

/** Milliseconds per stage of one patient. */
export interface StageTimings {
  hash: number;
  read: number;
  resample: number;
  segment: number;
  write: number;
  total: number;
}

/** What a worker sends back (small: no arrays cross the thread boundary). */
export type IngestTaskResult =
  | {
      status: "skipped";
      id: string;
      sourceHash: string;
      dicomBytes: number;
      timings: Pick<StageTimings, "hash" | "total">;
    }
  | {
      status: "ingested";
      id: string;
      /** True if an older version of the patient was replaced. */
      replaced: boolean;
      sourceHash: string;
      dicomBytes: number;
      fileCount: number;
      sourceShape: Vec3;
      shape: Vec3;
      lungVolumeMl: number;
      warnings: number;
      timings: StageTimings;
      /** Parts of this patient's split work (slices, z-slabs) that idle pool threads did. */
      helpedParts: number;
      /** Resident set size of the process when the task ended, MiB (all threads). */
      rssMiB: number;
    }
  | {
      status: "failed";
      id: string;
      error: SerializedError;
      stage: string;
      timings: Partial<StageTimings>;
    };
