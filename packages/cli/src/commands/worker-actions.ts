import type { QueueWorkerEvent } from "@lungflow/pipeline";
import { intOption, numberOption } from "../options.js";
import type { WorkerCliOptions } from "./worker.js";

function line(e: QueueWorkerEvent): string | undefined {
  switch (e.type) {
    case "ready":
      return `worker ready: queue ${e.name} on ${e.queue}, store ${e.store}, ${e.workers} patient(s) at a time`;
    case "started":
      return `started   ${e.id}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ""}`;
    case "done":
      return e.outcome === "ingested" || e.outcome === "skipped"
        ? `${e.outcome === "ingested" ? "ingested " : "skipped  "} ${e.id} in ${(e.ms / 1000).toFixed(1)} s`
        : `${e.outcome === "retry" ? "RETRY    " : "FAILED   "} ${e.id}: ${e.code}: ${e.message}`;
    case "error":
      return `queue: ${e.message} (reconnecting)`;
    case "closed":
      return `worker stopped after ${e.processed} job(s)`;
  }
}

export async function worker(o: WorkerCliOptions): Promise<void> {
  const { queueWorker } = await import("@lungflow/pipeline");
  const stop = new AbortController();
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    process.stderr.write("\nstopping: jobs in flight finish; Ctrl-C again to quit now\n");
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const lockMs = numberOption("lock-duration", o.lockDuration, (n) => n > 0, "seconds > 0") * 1000;
  try {
    await new Promise<void>((resolve, reject) => {
      queueWorker({
        queue: o.queue,
        queueName: o.queueName,
        store: o.store,
        workers: intOption("workers", o.workers, 1),
        threads: intOption("threads", o.threads, 1),
        leaseMs: numberOption("lease", o.lease, (n) => n > 0, "seconds > 0") * 1000,
        lockDurationMs: lockMs,
        stalledIntervalMs: lockMs,
        signal: stop.signal,
      }).subscribe({
        next: (e) => {
          const l = line(e);
          if (l) console.log(l);
        },
        error: reject,
        complete: resolve,
      });
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  // BullMQ may keep a reconnecting socket after its close: this process is done.
  process.exit(process.exitCode ?? 0);
}
