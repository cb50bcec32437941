import type { PatchStore } from "@lungflow/patch-store";
import { Job, Queue, QueueEvents } from "bullmq";
import type { IngestEvent, IngestSummary } from "../events.js";
import type { MaskMode } from "../params.js";
import type { PatientFolder } from "../patient-folders.js";
import { toEvent } from "../summary.js";
import type { QueueAddress } from "./connection.js";
import {
  decodeFailure,
  type IngestJobData,
  type IngestJobResult,
  isRetryable,
  jobIdFor,
  listingHash,
} from "./job.js";

type IngestQueue = Queue<IngestJobData, IngestJobResult, string>;

/** What {@link enqueueAndFollow} needs of the ingest options. */
export interface EnqueueOptions {
  addr: QueueAddress;
  store: PatchStore;
  folders: PatientFolder[];
  maskMode: MaskMode;
  chunk: number;
  zstdLevel: number;
  force: boolean;
  lungflowVersion: string;
  /** Attempts per job before a transient failure ends it failed (default 3). */
  attempts: number;
  /** First Ctrl-C: jobs not started are taken back off the queue; those running finish. */
  drain?: AbortSignal;
  /** Stop following at once; jobs already taken by workers still run there. */
  signal: AbortSignal;
  emit: (e: IngestEvent) => void;
  summary: IngestSummary;
}

/**
 * Enqueues one job per patient folder (idempotent: the id is patient + listing hash) and
 * follows them to the end from the queue's events, emitting the same events as a local
 * run. A job that ended in an earlier run is reported from its stored result (a failed
 * one whose failure was transient is run again). A safety poll every 2 s reads the state
 * of the jobs still open, so a missed event (Redis restarted) cannot hang the run.
 */
export async function enqueueAndFollow(o: EnqueueOptions): Promise<void> {
  const { addr, emit, summary } = o;
  const queue: IngestQueue = new Queue(addr.name, { connection: addr.connection });
  const events = new QueueEvents(addr.name, { connection: addr.connection });
  queue.on("error", () => undefined); // ioredis reconnects by itself; the poll carries on
  events.on("error", () => undefined);
  const byJob = new Map<string, PatientFolder>();
  const open = new Set<string>();
  let wake: () => void = () => undefined;
  const finish = async (jobId: string): Promise<void> => {
    if (!open.has(jobId)) return;
    const job = await Job.fromId<IngestJobData, IngestJobResult>(queue, jobId);
    const f = byJob.get(jobId) as PatientFolder;
    if (!job) return;
    const state = await job.getState();
    if (state === "completed") {
      if (!open.delete(jobId)) return;
      emit(toEvent(parseResult(job.returnvalue), f));
    } else if (state === "failed") {
      if (!open.delete(jobId)) return;
      const fl = decodeFailure(f.id, job.failedReason);
      emit({ type: "failed", id: f.id, dir: f.dir, stage: fl.stage, error: fl.error });
    } else return;
    wake();
  };
  try {
    await events.waitUntilReady();
    const runTag = o.force ? `-f${Date.now().toString(36)}` : "";
    const datas: IngestJobData[] = [];
    for (let i = 0; i < o.folders.length; i += 16) {
      const part = o.folders.slice(i, i + 16);
      const keys = await Promise.all(part.map((f) => listingHash(f.dir)));
      for (const [k, f] of part.entries()) {
        datas.push({
          id: f.id,
          dir: f.dir,
          sourceKey: `${keys[k]}${runTag}`,
          maskMode: o.maskMode,
          chunk: o.chunk,
          zstdLevel: o.zstdLevel,
          force: o.force,
          lungflowVersion: o.lungflowVersion,
        });
      }
    }
    events.on("active", ({ jobId }) => {
      const f = byJob.get(jobId);
      if (f && open.has(jobId)) emit({ type: "started", id: f.id, dir: f.dir });
    });
    events.on("completed", ({ jobId }) => void finish(jobId).catch(() => undefined));
    events.on("failed", ({ jobId }) => void finish(jobId).catch(() => undefined));
    const earlier = new Set<string>();
    for (let i = 0; i < datas.length; i += 500) {
      const part = datas.slice(i, i + 500);
      for (const d of part) {
        const jobId = jobIdFor(d.id, d.sourceKey);
        byJob.set(jobId, { id: d.id, dir: d.dir });
        open.add(jobId);
        if ((await queue.getJobState(jobId)) !== "unknown") earlier.add(jobId);
      }
      await queue.addBulk(
        part.map((d) => ({
          name: "ingest",
          data: d,
          opts: {
            jobId: jobIdFor(d.id, d.sourceKey),
            attempts: o.attempts,
            backoff: { type: "exponential", delay: 1000 },
          },
        })),
      );
    }
    // Jobs that ended in an earlier run: a completed one is this source, already in the
    // store (skipped); a failed one is reported again, or run again if its failure was transient.
    for (const jobId of earlier) {
      const job = await Job.fromId<IngestJobData, IngestJobResult>(queue, jobId);
      const state = await job?.getState();
      if (!job || (state !== "completed" && state !== "failed")) continue;
      const fl = decodeFailure(job.data.id, job.failedReason);
      if (state === "failed" && isRetryable(fl.error)) {
        await job.retry("failed");
        continue;
      }
      open.delete(jobId);
      const f = byJob.get(jobId) as PatientFolder;
      if (state === "failed") {
        emit({ type: "failed", id: f.id, dir: f.dir, stage: fl.stage, error: fl.error });
      } else {
        const r = parseResult(job.returnvalue);
        emit({
          type: "skipped",
          id: f.id,
          reason: "unchanged",
          sourceHash: r.sourceHash,
          dicomBytes: r.dicomBytes,
        });
      }
    }
    for (const jobId of [...open]) await finish(jobId);
    let drained = false;
    while (open.size > 0 && !o.signal.aborted) {
      if (o.drain?.aborted && !drained) {
        drained = true;
        await takeBackWaiting(queue, open, byJob, summary);
        if (open.size === 0) break;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        wake = done;
        o.signal.addEventListener("abort", done, { once: true });
        o.drain?.addEventListener("abort", done, { once: true });
      });
      for (const jobId of [...open]) await finish(jobId).catch(() => undefined);
    }
    // Stopped before the end: the rest stay on the queue (workers run them) or were taken back.
    for (const jobId of open) {
      const f = byJob.get(jobId) as PatientFolder;
      summary.notStarted++;
      summary.notStartedIds.push(f.id);
    }
  } finally {
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
  }
}

/** Removes this run's jobs that no worker took yet (graceful stop). */
async function takeBackWaiting(
  queue: IngestQueue,
  open: Set<string>,
  byJob: Map<string, PatientFolder>,
  summary: IngestSummary,
): Promise<void> {
  for (const jobId of [...open]) {
    const state = await queue.getJobState(jobId);
    if (state !== "waiting" && state !== "delayed" && state !== "prioritized") continue;
    const removed = await queue.remove(jobId).catch(() => 0);
    if (removed === 1) {
      open.delete(jobId);
      const f = byJob.get(jobId) as PatientFolder;
      summary.notStarted++;
      summary.notStartedIds.push(f.id);
    }
  }
}

function parseResult(v: unknown): IngestJobResult {
  return (typeof v === "string" ? JSON.parse(v) : v) as IngestJobResult;
}
