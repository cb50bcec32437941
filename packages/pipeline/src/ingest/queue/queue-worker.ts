import { openStore } from "@lungflow/patch-store";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import { Observable } from "rxjs";
import { IngestError, serializeError } from "../errors.js";
import { preprocessingParams } from "../params.js";
import { createIngestPool, defaultWorkers } from "../pool.js";
import type { IngestTask, IngestTaskResult } from "../task.js";
import { parseQueueUrl } from "./connection.js";
import { encodeFailure, type IngestJobData, type IngestJobResult, isRetryable } from "./job.js";

/** Options of {@link queueWorker}. */
export interface QueueWorkerOptions {
  /** `redis://host:port[/db]` of the queue (the one `ingest --queue` fills). */
  queue: string;
  /** BullMQ queue name (default `lungflow-ingest`). */
  queueName?: string;
  /** The patch store the jobs write (made by the enqueuing `ingest`). */
  store: string;
  /** Patients at a time on this host, each on its own thread (default: cores). */
  workers?: number;
  /**
   * Threads of this host's pool (default: `workers` or the number of cores, whichever is
   * larger): threads without a job help the running ones, as `IngestOptions.threads`.
   */
  threads?: number;
  /** Lease of each patient's claim in the store, ms (default 60 000). */
  leaseMs?: number;
  /**
   * How long a job stays ours without a heartbeat, ms (BullMQ `lockDuration`, default
   * 30 000). A worker that dies (SIGKILL, host lost) loses its jobs after this.
   */
  lockDurationMs?: number;
  /** How often this worker looks for jobs of dead workers, ms (default 30 000). */
  stalledIntervalMs?: number;
  /** Graceful stop: no new jobs; those in flight finish. */
  signal?: AbortSignal;
}

/** Events of {@link queueWorker}. */
export type QueueWorkerEvent =
  | { type: "ready"; queue: string; name: string; store: string; workers: number }
  | { type: "started"; jobId: string; id: string; attempt: number }
  | {
      type: "done";
      jobId: string;
      id: string;
      /** `retry`: a transient failure; BullMQ runs the job again after a backoff. */
      outcome: "ingested" | "skipped" | "failed" | "retry";
      ms: number;
      code?: string;
      message?: string;
    }
  /** Lost the Redis connection (it reconnects by itself) or another worker-level error. */
  | { type: "error"; message: string }
  | { type: "closed"; processed: number };

/**
 * A queue worker: takes patient jobs from BullMQ and runs the same per-patient flow as a
 * folder ingest (hash -> skip or read -> HU -> resample -> segment -> crop -> atomic write),
 * each on a Piscina thread so the event loop stays free to renew the job's lock. Any
 * number of workers on any number of hosts may serve one queue and one store: each patient
 * write holds the patient's claim in the store. A transient failure (patient claimed,
 * thread died, store write failed) is retried by BullMQ with backoff; a typed DICOM or
 * segmentation error ends the job failed at once, its code in `failedReason`.
 */
export function queueWorker(opts: QueueWorkerOptions): Observable<QueueWorkerEvent> {
  return new Observable<QueueWorkerEvent>((sub) => {
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) stop.abort();
    run(opts, stop.signal, (e) => sub.next(e)).then(
      () => sub.complete(),
      (err) => sub.error(err),
    );
    return () => {
      opts.signal?.removeEventListener("abort", onAbort);
      stop.abort();
    };
  });
}

async function run(
  opts: QueueWorkerOptions,
  stop: AbortSignal,
  emit: (e: QueueWorkerEvent) => void,
): Promise<void> {
  const workers = opts.workers ?? defaultWorkers();
  if (!(Number.isInteger(workers) && workers >= 1))
    throw new IngestError("BAD_OPTIONS", `workers must be an integer >= 1, got ${workers}`, {
      workers,
    });
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1))
    throw new IngestError("BAD_OPTIONS", `threads must be an integer >= 1, got ${opts.threads}`, {
      threads: opts.threads,
    });
  const addr = parseQueueUrl(opts.queue, opts.queueName);
  const store = await openStore(opts.store);
  const pool = createIngestPool(workers, opts.threads);
  let processed = 0;
  const processor = async (job: Job<IngestJobData>): Promise<IngestJobResult> => {
    const d = job.data;
    const t0 = performance.now();
    emit({ type: "started", jobId: job.id ?? "", id: d.id, attempt: job.attemptsMade + 1 });
    const task: IngestTask = {
      id: d.id,
      dir: d.dir,
      store: store.root,
      params: preprocessingParams(d.maskMode),
      maskMode: d.maskMode,
      chunk: d.chunk,
      zstdLevel: d.zstdLevel,
      force: d.force,
      lungflowVersion: d.lungflowVersion,
      leaseMs: opts.leaseMs,
    };
    const r: IngestTaskResult = await pool.run(task).catch((err) => ({
      status: "failed" as const,
      id: d.id,
      stage: "worker",
      timings: {},
      error: serializeError(
        new IngestError(
          "WORKER_FAILED",
          `worker failed on patient ${d.id}: ${(err as Error)?.message ?? err}`,
          { patientId: d.id, dir: d.dir },
          { cause: err },
        ),
      ),
    }));
    processed++;
    const ms = Math.round(performance.now() - t0);
    if (r.status !== "failed") {
      emit({ type: "done", jobId: job.id ?? "", id: d.id, outcome: r.status, ms });
      return r;
    }
    const retry = isRetryable(r.error);
    emit({
      type: "done",
      jobId: job.id ?? "",
      id: d.id,
      outcome: retry ? "retry" : "failed",
      ms,
      code: r.error.code,
      message: r.error.message,
    });
    const reason = encodeFailure({ id: d.id, stage: r.stage, error: r.error });
    throw retry ? new Error(reason) : new UnrecoverableError(reason);
  };
  const inFlight = new Set<Promise<unknown>>();
  const tracked = (job: Job<IngestJobData>): Promise<IngestJobResult> => {
    const p = processor(job);
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    inFlight.add(settled);
    void settled.then(() => inFlight.delete(settled));
    return p;
  };
  const worker = new Worker<IngestJobData, IngestJobResult>(addr.name, tracked, {
    connection: addr.connection,
    concurrency: workers,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
    autorun: false,
  });
  let lastError = "";
  worker.on("error", (err) => {
    // One line per kind of trouble: a Redis outage repeats the same error every retry.
    if (err.message !== lastError) emit({ type: "error", message: err.message });
    lastError = err.message;
  });
  worker.on("ready", () => {
    lastError = "";
  });
  try {
    const running = worker.run();
    await worker.waitUntilReady();
    emit({ type: "ready", queue: addr.url, name: addr.name, store: store.root, workers });
    await new Promise<void>((resolve) => {
      if (stop.aborted) resolve();
      stop.addEventListener("abort", () => resolve(), { once: true });
    });
    // Take no new job, let those in flight finish (their results reach Redis), then close.
    // BullMQ's own waiting (pause()/close() without force) waits for its blocking
    // connection to end, which after a Redis restart can take forever: we wait for our
    // jobs instead, and give the forced close a bounded time.
    await worker.pause(true);
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    await bounded(worker.close(true), 3000);
    await bounded(running, 1000);
  } finally {
    await bounded(worker.close(true), 3000);
    await pool.destroy().catch(() => undefined);
  }
  emit({ type: "closed", processed });
}

/** Waits for `p` at most `ms` (errors ignored). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    p.then(
      () => {
        clearTimeout(t);
        resolve();
      },
      () => {
        clearTimeout(t);
        resolve();
      },
    );
  });
}
