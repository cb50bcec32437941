import type { PatchStore } from "@lungflow/patch-store";
import { lastValueFrom, tap } from "rxjs";
import type { IngestEvent } from "../events.js";
import type { IngestOptions } from "../ingest.js";
import { type PatientFolder, patientFolders } from "../patient-folders.js";
import { account, finishSummary, newSummary } from "../summary.js";
import { parseQueueUrl } from "./connection.js";
import { enqueueAndFollow } from "./enqueue.js";

/**
 * `ingest` with `queue`: the store lock only around the store-wide steps (recovery of
 * leftovers before and after, labels at the end); in between the workers write patients
 * under per-patient claims, and this process enqueues and follows.
 */
export async function runQueued(a: {
  opts: IngestOptions;
  root: string;
  store: PatchStore;
  labelsText: string | undefined;
  signal: AbortSignal;
  emit: (e: IngestEvent) => void;
  t0: number;
}): Promise<void> {
  const { opts, store, emit } = a;
  const addr = parseQueueUrl(opts.queue as string, opts.queueName);
  const summary = newSummary(a.root, store.root, 0);
  summary.queue = { url: addr.url, name: addr.name };
  const storeWide = async <T>(purpose: string, fn: () => Promise<T>): Promise<T> => {
    const lock = await store.lock({ timeoutMs: opts.lockTimeoutMs ?? 0, purpose });
    try {
      return await fn();
    } finally {
      await lock.release().catch(() => undefined);
    }
  };
  // Recovery skips patients claimed by live workers (their staging is work in progress).
  const rec = await storeWide(`ingest ${a.root} (recovery)`, () => store.recover());
  if (rec.rolledForward.length || rec.removed.length) emit({ type: "recovered", ...rec });
  const folders: PatientFolder[] = [];
  await lastValueFrom((opts.folders ?? patientFolders(a.root)).pipe(tap((f) => folders.push(f))), {
    defaultValue: undefined,
  });
  summary.total = folders.length;
  emit({ type: "discovered", total: folders.length, root: a.root });
  const emitCounted = (e: IngestEvent) => {
    account(summary, e);
    emit(e);
  };
  await enqueueAndFollow({
    addr,
    store,
    folders,
    maskMode: opts.maskMode ?? "kdsb17",
    chunk: opts.chunk ?? 64,
    zstdLevel: opts.zstdLevel ?? 3,
    force: opts.force ?? false,
    lungflowVersion: opts.lungflowVersion ?? "0.1.0",
    attempts: opts.attempts ?? 3,
    drain: opts.drain,
    signal: a.signal,
    emit: emitCounted,
    summary,
  });
  if (!a.signal.aborted) {
    await storeWide(`ingest ${a.root} (labels, recovery)`, async () => {
      // Leftovers of workers killed mid-write (their claims are stale by now).
      const after = await store.recover();
      if (after.rolledForward.length || after.removed.length) emit({ type: "recovered", ...after });
      if (a.labelsText !== undefined && summary.notStarted === 0) {
        const r = await store.importLabels(a.labelsText, { file: opts.labels, unknown: "ignore" });
        emit({ type: "labels", ...r });
      }
    });
  }
  finishSummary(summary, a.t0);
  emit({ type: "finished", summary });
}
