import * as fs from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { MessageChannel } from "node:worker_threads";
import { Piscina } from "piscina";
import { onPoolError } from "../patches/pool.js";
import { IngestError } from "./errors.js";
import type { IngestTask, IngestTaskResult } from "./task.js";
import { abandonSlabJob, type SlabHelpTask, type SlabJob } from "./thread-slabs.js";

/**
 * The compiled worker script. Next to this module in `dist/`; when this module runs from
 * `src/` (tests under tsx) the compiled one in `dist/` is used, since Piscina workers must
 * be plain JavaScript.
 */
export function ingestWorkerUrl(): URL {
  const here = new URL("./worker.js", import.meta.url);
  if (fs.existsSync(fileURLToPath(here))) return here;
  const dist = new URL("../../dist/ingest/worker.js", import.meta.url);
  if (fs.existsSync(fileURLToPath(dist))) return dist;
  throw new IngestError(
    "WORKER_FAILED",
    `ingest worker not built: ${fileURLToPath(dist)} is missing (run the pipeline build)`,
    { workerPath: fileURLToPath(dist) },
  );
}

/** Default pool size: the number of CPU cores. */
export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/**
 * The ingest pool: `threads` Piscina threads running the ingest worker, one patient per
 * {@link IngestPool.run}. Threads without a patient help the running ones: a patient's
 * thread posts each job it can split (slices to read, z-slabs to resample, slices to
 * clean; see `threadSlabs`) on its own port, and this pool hands the job to as many idle
 * threads as it has parts to spare. So one patient uses every thread, and a full pool (as
 * many patients in flight as threads) runs exactly as without helpers.
 */
export class IngestPool {
  readonly threads: number;
  readonly #pool: Piscina;
  /** Tasks (patients and helpers) handed to Piscina and not settled. */
  #busy = 0;

  constructor(threads: number) {
    this.threads = threads;
    this.#pool = new Piscina({
      filename: ingestWorkerUrl().href,
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 1000,
    });
    // Late replies to aborted (discarded) patients arrive as pool errors: see onPoolError.
    this.#pool.on("error", onPoolError);
  }

  /** Ingests one patient on a pool thread (helped by idle threads). */
  async run(task: IngestTask, opts: { signal?: AbortSignal } = {}): Promise<IngestTaskResult> {
    const { port1, port2 } = new MessageChannel();
    port1.on("message", (job: SlabJob) => this.#help(job));
    this.#busy++;
    try {
      return (await this.#pool.run(
        { ...task, slabPort: port2 },
        { signal: opts.signal, transferList: [port2] },
      )) as IngestTaskResult;
    } finally {
      this.#busy--;
      port1.close();
    }
  }

  #help(job: SlabJob): void {
    const helpers = Math.min(this.threads - this.#busy, job.parts - 1);
    for (let i = 0; i < helpers; i++) {
      this.#busy++;
      const task: SlabHelpTask = { help: job };
      this.#pool
        .run(task)
        .catch(() => abandonSlabJob(job)) // the helper died: its owner redoes its parts
        .finally(() => this.#busy--);
    }
  }

  destroy(): Promise<void> {
    return this.#pool.destroy();
  }
}

/**
 * A pool of `threads` ingest threads (default: `workers`, or the number of cores if
 * larger) for at most `workers` patients at a time: the other threads help them.
 */
export function createIngestPool(workers: number, threads?: number): IngestPool {
  return new IngestPool(Math.max(workers, threads ?? defaultWorkers()));
}
