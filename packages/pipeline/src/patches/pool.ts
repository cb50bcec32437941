import { availableParallelism } from "node:os";
import { Piscina } from "piscina";
import { CancelRing } from "./cancel-ring.js";
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

/** How long {@link PatchPool.destroy} waits for the replies of tasks still in the workers. */
const REPLY_GRACE_MS = 10_000;

/**
 * A Piscina pool running the patch worker, with errors re-wrapped as PatchStreamError.
 *
 * Stopping: a task whose caller stopped waiting (an aborted signal, a closed pool) is
 * cancelled in its worker through a {@link CancelRing} and its reply is awaited, never left
 * behind: Piscina forgets the tasks of the workers it terminates, but a reply already posted
 * is still delivered, and Piscina then reports it as an "Unexpected message from Worker"
 * pool error. So {@link PatchPool.destroy} cancels what is outstanding, waits for the
 * replies (a cancelled task stops at its next check: a patch, a volume load) and only then
 * terminates the threads.
 */
export class PatchPool {
  readonly workers: number;
  readonly #pool: Piscina;
  readonly #cancel = new CancelRing();
  /** Tasks handed to Piscina and not settled, by id: each a promise that settles with the task. */
  readonly #outstanding = new Map<number, Promise<void>>();
  #nextId = 0;
  #closing = false;
  /** Set when destroy() stopped waiting for replies: late ones are then expected. */
  #forced = false;
  #destroyed: Promise<void> | undefined;

  /**
   * `workerData` reaches every worker once, at its start (the patch stream's shared batch
   * buffers); the pool adds its cancellation ring as `cancel`.
   */
  constructor(workers: number, workerData?: Record<string, unknown>) {
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
      workerData: { ...workerData, cancel: this.#cancel.ids },
    });
    // Pool-level errors (a worker dying between tasks) would be uncaught exceptions without
    // a listener.
    this.#pool.on("error", (err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err);
      // Only after destroy() gave up waiting (a task ran past the grace period).
      if (this.#forced && /Unexpected message from Worker/.test(msg)) return;
      process.stderr.write(`lungflow: worker pool error: ${msg}\n`);
    });
  }

  /** Worker threads alive (for leak tests). */
  get threads(): number {
    return this.#pool.threads.length;
  }

  /** Tasks handed to the workers whose replies have not come back yet. */
  get outstanding(): number {
    return this.#outstanding.size;
  }

  /**
   * Runs `task`; rejects with `ABORTED` as soon as `signal` aborts or the pool is being
   * destroyed. The signal is not handed to Piscina: Piscina aborts a running task by
   * terminating its worker, which would throw away the worker's decoded volumes (and costs
   * event listeners per task). A task dropped that way is cancelled in its worker instead
   * (see {@link CancelRing}). `onDropped` runs when a task that failed or was dropped is
   * done in its worker (from then on nothing writes into the shared memory it was given),
   * with its result if it finished anyway.
   */
  async run<R>(
    task: WorkerTask,
    signal?: AbortSignal,
    context: Record<string, unknown> = {},
    transferList?: ArrayBuffer[],
    onDropped?: (result: R | undefined) => void,
  ): Promise<R> {
    if (signal?.aborted || this.#closing) {
      onDropped?.(undefined);
      throw new PatchStreamError("ABORTED", "patch stream aborted", context);
    }
    this.#nextId = (this.#nextId % 0x7ffffffe) + 1;
    const id = this.#nextId;
    const result = this.#pool.run({ ...task, id }, { transferList }) as Promise<R>;
    this.#outstanding.set(
      id,
      result.then(
        () => void this.#outstanding.delete(id),
        () => void this.#outstanding.delete(id),
      ),
    );
    try {
      return await (signal ? Promise.race([result, abortedPromise(signal)]) : result);
    } catch (err) {
      if (onDropped) result.then(onDropped, () => onDropped(undefined));
      if (signal?.aborted || this.#closing) {
        this.#cancel.cancel(id);
        throw new PatchStreamError("ABORTED", "patch stream aborted", context, { cause: err });
      }
      const msg = err instanceof Error ? err.message : String(err);
      throw new PatchStreamError("WORKER_FAILED", `${task.kind} task failed: ${msg}`, context, {
        cause: err,
      });
    }
  }

  /**
   * Cancels the tasks still in the workers, waits for their replies (at most 10 s: a worker
   * stuck in one task is terminated anyway) and stops the threads. Safe to call more than
   * once; every call resolves when the threads are gone.
   */
  destroy(): Promise<void> {
    this.#destroyed ??= (async () => {
      this.#closing = true;
      for (const id of this.#outstanding.keys()) this.#cancel.cancel(id);
      let timer: NodeJS.Timeout | undefined;
      const replied = await Promise.race([
        Promise.all(this.#outstanding.values()).then(() => true),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(resolve, REPLY_GRACE_MS, false);
        }),
      ]);
      clearTimeout(timer);
      if (!replied) this.#forced = true;
      await this.#pool.destroy();
    })();
    return this.#destroyed;
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
