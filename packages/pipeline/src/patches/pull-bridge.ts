import { concatMap, from, map, mergeMap, Subject, type Subscription, takeWhile } from "rxjs";

/** Counters of a {@link pullBridge}, live. */
export interface BridgeStats {
  /** Tasks started and not yet finished. */
  inFlight: number;
  /** The most tasks ever in flight at once. */
  maxInFlight: number;
  /** Finished results waiting for the consumer (including ones held for ordering). */
  buffered: number;
  maxBuffered: number;
  started: number;
  delivered: number;
}

export interface PullBridgeOptions<R = unknown> {
  /** Most tasks running at once (mergeMap concurrency). */
  concurrency: number;
  /** Most tasks started and not yet consumed (running + finished and waiting). */
  capacity: number;
  signal?: AbortSignal;
  /** Called once when the bridge stops (end, error, abort or consumer return). */
  onStop?: () => void;
  /** Called with each finished result that will never be delivered (the bridge stopped first). */
  onDiscard?: (result: R) => void;
}

/**
 * The bridge from a push stream to a pull consumer (ECOSYSTEM.md, "RxJS to tf.data"):
 * the consumer's pulls are credits on a Subject; each credit plans one task (`plan.next()`),
 * tasks run through `mergeMap` with bounded concurrency, and results wait in a buffer
 * until pulled, in plan order whatever order they finish in. There are never more than
 * `capacity` tasks started and not consumed, so a slow consumer slows the producers and
 * memory stays flat.
 */
export function pullBridge<T, R>(
  plan: AsyncIterator<T>,
  run: (task: T, index: number, signal: AbortSignal) => Promise<R>,
  opts: PullBridgeOptions<R>,
): AsyncIterableIterator<R> & { stats: BridgeStats } {
  const stats: BridgeStats = {
    inFlight: 0,
    maxInFlight: 0,
    buffered: 0,
    maxBuffered: 0,
    started: 0,
    delivered: 0,
  };
  const abort = new AbortController();
  const credits = new Subject<void>();
  const ready = new Map<number, R>();
  // Results between their task's end and the buffer (a few microtasks), so that stopping in
  // between still hands them to onDiscard.
  const arriving = new Set<R>();
  let nextOut = 0;
  let planned = 0;
  let finished = false;
  let failure: unknown;
  let stopped = false;
  let waiter: (() => void) | undefined;
  const wake = () => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };

  const sub: Subscription = credits
    .pipe(
      concatMap(() => from(plan.next())),
      takeWhile((r) => !r.done),
      map((r) => ({ task: r.value as T, index: planned++ })),
      mergeMap(({ task, index }) => {
        stats.started++;
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        return from(
          run(task, index, abort.signal)
            .then((result) => {
              if (stopped) opts.onDiscard?.(result);
              else arriving.add(result);
              return result;
            })
            .finally(() => {
              stats.inFlight--;
            }),
        ).pipe(map((result) => ({ index, result })));
      }, opts.concurrency),
    )
    .subscribe({
      next: ({ index, result }) => {
        arriving.delete(result);
        ready.set(index, result);
        stats.buffered = ready.size;
        stats.maxBuffered = Math.max(stats.maxBuffered, ready.size);
        wake();
      },
      error: (err) => {
        failure = err;
        finished = true;
        wake();
      },
      complete: () => {
        finished = true;
        wake();
      },
    });

  const stop = () => {
    if (stopped) return;
    stopped = true;
    abort.abort();
    sub.unsubscribe();
    credits.complete();
    void plan.return?.();
    opts.onStop?.();
    for (const r of [...arriving, ...ready.values()]) opts.onDiscard?.(r);
    arriving.clear();
    ready.clear();
  };
  const onAbort = () => {
    failure = opts.signal?.reason ?? new Error("aborted");
    finished = true;
    stop();
    wake();
  };
  if (opts.signal?.aborted) onAbort();
  else opts.signal?.addEventListener("abort", onAbort, { once: true });

  for (let i = 0; i < opts.capacity && !stopped; i++) credits.next();

  const it = {
    stats,
    async next(): Promise<IteratorResult<R>> {
      for (;;) {
        if (ready.has(nextOut)) {
          const value = ready.get(nextOut)!;
          ready.delete(nextOut);
          nextOut++;
          stats.buffered = ready.size;
          stats.delivered++;
          if (!stopped) credits.next();
          return { value, done: false };
        }
        if (failure !== undefined) {
          stop();
          opts.signal?.removeEventListener("abort", onAbort);
          throw failure;
        }
        // Stopped by return() (or finished): nothing more will come.
        if (stopped || (finished && stats.inFlight === 0)) {
          stop();
          opts.signal?.removeEventListener("abort", onAbort);
          return { value: undefined, done: true };
        }
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
    },
    async return(): Promise<IteratorResult<R>> {
      stop();
      opts.signal?.removeEventListener("abort", onAbort);
      wake();
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
