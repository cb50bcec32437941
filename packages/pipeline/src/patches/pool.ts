import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { PatchStreamError } from "./errors.js";
import type { WorkerTask } from "./worker.js";

// The worker is always the compiled one: from src/patches (tests under tsx) and from
// dist/patches alike, ../../dist/patches/worker.js names it.
const WORKER = new URL("../../dist/patches/worker.js", import.meta.url).href;

/** Default worker count: the cores minus one for the training loop, at least 1. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Drops late replies to aborted tasks; anything else is reported on stderr. */
export function onPoolError(err: unknown): void {
  const msg = err instanceof Error ? err.message : String(err);
  if (/Unexpected message from Worker/.test(msg)) return;
  process.stderr.write(`lungflow: worker pool error: ${msg}\n`);
}

const aborted = new WeakMap<AbortSignal, Promise<never>>();

/** One promise per signal that rejects when it aborts (one listener, however many tasks race it). */
function abortedPromise(signal: AbortSignal): Promise<never> {
  let p = aborted.get(signal);
  if (!p) {
    p = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    p.catch(() => {});
    aborted.set(signal, p);
  }
  return p;
}

/** A Piscina pool running the patch worker, with errors re-wrapped as PatchStreamError. */
export class PatchPool {
  readonly workers: number;
  readonly #pool: Piscina;
  #destroyed = false;

  /**
   * `workerData` reaches every worker once, at its start (the patch stream's shared batch
   * buffers).
   */
  constructor(workers: number, workerData?: unknown) {
    if (!(Number.isInteger(workers) && workers >= 1)) {
      throw new PatchStreamError("BAD_OPTION", `workers must be an integer >= 1, got ${workers}`, {
        workers,
      });
    }
    this.workers = workers;
    this.#pool = new Piscina({
      filename: WORKER,
      minThreads: workers,
      maxThreads: workers,
      idleTimeout: 60_000,
      // The next task waits in the worker while the current one runs: no idle round trip
      // through the main thread between batches (the worker was idle 10-30% of the time).
      // Tasks only interleave at awaits (volume loads, which the cache shares).
      concurrentTasksPerWorker: 2,
      // No run/wait-time histograms: per-task bookkeeping on the main thread nobody reads.
      recordTiming: false,
      workerData,
    });
    // Pool-level errors would be uncaught exceptions without a listener. (Tasks are no longer
    // aborted inside Piscina, see run(); its "Unexpected message from Worker" for late replies
    // to aborted tasks is still dropped should it ever come.)
    this.#pool.on("error", onPoolError);
  }

  /** Worker threads alive (for leak tests). */
  get threads(): number {
    return this.#pool.threads.length;
  }

  /**
   * Runs `task`; rejects with `ABORTED` as soon as `signal` aborts. The signal is not handed
   * to Piscina: Piscina aborts a running task by terminating its worker, which would throw
   * away the worker's decoded volumes (and costs event listeners per task). A task already
   * sent finishes in its worker and its result is dropped. `onDropped` runs when a task
   * that failed or was dropped is done in its worker (from then on nothing writes into the
   * shared memory it was given).
   */
  async run<R>(
    task: WorkerTask,
    signal?: AbortSignal,
    context: Record<string, unknown> = {},
    transferList?: ArrayBuffer[],
    onDropped?: () => void,
  ): Promise<R> {
    if (signal?.aborted) {
      onDropped?.();
      throw new PatchStreamError("ABORTED", "patch stream aborted", context);
    }
    const result = this.#pool.run(task, { transferList }) as Promise<R>;
    try {
      return await (signal ? Promise.race([result, abortedPromise(signal)]) : result);
    } catch (err) {
      if (onDropped) result.then(onDropped, onDropped);
      if (signal?.aborted)
        throw new PatchStreamError("ABORTED", "patch stream aborted", context, { cause: err });
      const msg = err instanceof Error ? err.message : String(err);
      throw new PatchStreamError("WORKER_FAILED", `${task.kind} task failed: ${msg}`, context, {
        cause: err,
      });
    }
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    await this.#pool.destroy();
  }
}

/** What the tf-free stream generators take besides the stream options. */
export interface EpochRange {
  /** Epochs to stream (default 1). */
  epochs?: number;
  /** The first epoch's number (default 0). */
  startEpoch?: number;
}

/**
 * Streams epochs `startEpoch ..` of an opened stream and closes its workers when the loop
 * ends, breaks or throws (the body of `patchBatches` and `volumeBatches`).
 */
export async function* streamEpochs<T>(
  stream: { epoch(e: number): AsyncIterable<T>; close(): Promise<void> },
  range: EpochRange,
): AsyncGenerator<T> {
  try {
    const first = range.startEpoch ?? 0;
    for (let e = first; e < first + (range.epochs ?? 1); e++) yield* stream.epoch(e);
  } finally {
    await stream.close();
  }
}
