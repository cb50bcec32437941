import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { SerializedError } from "../errors.js";
import type { MaskMode } from "../params.js";
import type { IngestTaskResult } from "../task.js";

/** One patient's job on the ingest queue (what `ingest --queue` enqueues). */
export interface IngestJobData {
  /** Patient id (the folder name). */
  id: string;
  /** The patient's DICOM folder, as the workers see it (a shared filesystem). */
  dir: string;
  /** Cheap hash of the folder listing (see {@link listingHash}); part of the job id. */
  sourceKey: string;
  maskMode: MaskMode;
  chunk: number;
  zstdLevel: number;
  force: boolean;
  lungflowVersion: string;
}

/** What a job returns (completed) : the task result of an ingested or unchanged patient. */
export type IngestJobResult = Extract<IngestTaskResult, { status: "ingested" | "skipped" }>;

/** Why a job ended failed, as its `failedReason` carries it (JSON). */
export interface QueueFailure {
  id: string;
  stage: string;
  error: SerializedError;
}

/**
 * Job id: patient id and source key, so enqueuing the same folder again adds nothing
 * (BullMQ ignores an id it holds) and a changed folder is a new job. BullMQ refuses `:`
 * in ids; patient ids never hold `@`.
 */
export function jobIdFor(id: string, sourceKey: string): string {
  return `${id}@${sourceKey}`;
}

/**
 * A hash of a patient folder's listing: relative paths, sizes and modification times of
 * its files (hidden ones skipped), 16 hex digits. The enqueuer reads no file content (a
 * cohort may be terabytes); workers still compare the full content hash with the store's.
 */
export async function listingHash(dir: string): Promise<string> {
  const rows: string[] = [];
  const walk = async (rel: string) => {
    for (const e of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile()) {
        const st = await fs.stat(path.join(dir, r));
        rows.push(`${r}\0${st.size}\0${Math.round(st.mtimeMs)}`);
      }
    }
  };
  await walk("");
  rows.sort();
  return createHash("sha256").update(rows.join("\n")).digest("hex").slice(0, 16);
}

/**
 * Failures worth another attempt: the patient is busy or the writer lost it, a worker
 * thread died, the store could not be written. Everything else (a typed DICOM or
 * segmentation error, a bad id) fails the same way every time and ends the job at once.
 */
const RETRYABLE = new Set([
  "PATIENT_CLAIMED",
  "CLAIM_LOST",
  "WORKER_FAILED",
  "WRITE_FAILED",
  "DISK_FULL",
  "FETCH_FAILED",
]);

export function isRetryable(e: SerializedError): boolean {
  return RETRYABLE.has(e.code);
}

export function encodeFailure(f: QueueFailure): string {
  return JSON.stringify(f);
}

/** Reads a `failedReason`; BullMQ's own reasons (a job stalled too often) become `STALLED`/`QUEUE`. */
export function decodeFailure(id: string, reason: string | undefined): QueueFailure {
  try {
    const f = JSON.parse(reason ?? "") as QueueFailure;
    if (f && typeof f.error?.code === "string") return f;
  } catch {
    // not ours
  }
  const stalled = /stalled/i.test(reason ?? "");
  return {
    id,
    stage: "queue",
    error: {
      tag: "IngestError",
      code: stalled ? "STALLED" : "QUEUE",
      message: reason ?? "failed without a reason",
      context: {},
    },
  };
}
