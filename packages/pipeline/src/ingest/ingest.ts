import * as fs from "node:fs/promises";
import * as path from "node:path";
import { openStore, parseLabelsCsv } from "@lungflow/patch-store";
import {
  concat,
  defer,
  EMPTY,
  from,
  lastValueFrom,
  map,
  mergeMap,
  Observable,
  of,
  tap,
} from "rxjs";
import type { DicomWebQuery } from "./dicomweb/list-patients.js";
import { IngestError, serializeError } from "./errors.js";
import type { IngestEvent } from "./events.js";
import { type MaskMode, preprocessingParams } from "./params.js";
import { type PatientFolder, patientFolders } from "./patient-folders.js";
import { createIngestPool, defaultWorkers, type IngestPool } from "./pool.js";
import { account, finishSummary, newSummary, toEvent } from "./summary.js";
import type { IngestTask, IngestTaskResult } from "./task.js";

/** Options of {@link ingest}. Every field is optional except `root` and `store`. */
export interface IngestOptions {
  /**
   * DICOM root: one sub-folder per patient, named by patient id; or a DICOMweb server as
   * `dicomweb+http://host:port/dicom-web` (see `dicomweb`).
   */
  root: string;
  /** Patch store path (created if missing). */
  store: string;
  /** Patients in flight (default: number of cores). 0 runs on the calling thread (debugging). */
  workers?: number;
  /**
   * Threads of the pool (default: `workers` or the number of cores, whichever is larger).
   * Threads without a patient help the running ones (slices, z-slabs): one patient uses
   * every thread, and so do the last patients of a cohort. Equal to `workers`: help only
   * once fewer patients than workers are left (the tail of a cohort).
   */
  threads?: number;
  /** Re-ingest patients even when their sources are unchanged. */
  force?: boolean;
  /** Kaggle labels CSV, checked before the run and imported after it. */
  labels?: string;
  /** Chunk edge in voxels (default 64). */
  chunk?: number;
  /** zstd level 1..22 (default 3). */
  zstdLevel?: number;
  /** Lung mask mode (default "kdsb17"). Part of the store's parameters. */
  maskMode?: MaskMode;
  /** How long to wait for another ingest's lock, ms (default 0: fail with STORE_LOCKED). */
  lockTimeoutMs?: number;
  /** Version written in each patient's attributes. */
  lungflowVersion?: string;
  /** Graceful stop: no new patients start; in-flight ones finish and are kept. */
  drain?: AbortSignal;
  /** Hard stop: in-flight patients are discarded (workers terminated, staging cleaned). */
  signal?: AbortSignal;
  /** The patient folders (default: the sub-folders of `root`). */
  folders?: Observable<PatientFolder>;
  /**
   * `redis://host:port[/db]`: enqueue one job per patient on this BullMQ queue instead of
   * running them here, and follow them to the end (`lungflow worker` processes, on any
   * hosts that see `root` and the store at the same paths, run them). `workers` is unused.
   */
  queue?: string;
  /** BullMQ queue name (default `lungflow-ingest`); one per store. */
  queueName?: string;
  /** Queue mode: attempts per patient before a transient failure ends it (default 3). */
  attempts?: number;
  /**
   * With a `root` of `dicomweb+http://host:port/dicom-web`: what to take from the server
   * and how (see {@link DicomWebQuery}); `watch` polls every `pollMs` (default 10 000)
   * until stopped; `connections` bounds the parallel requests (default 4).
   */
  dicomweb?: DicomWebQuery & {
    watch?: boolean;
    pollMs?: number;
    connections?: number;
    /** Where fetched series wait for their patient's ingest (default: the OS temp dir). */
    tmpDir?: string;
  };
}

/**
 * Store write failures that every later patient would meet too: the first one halts the
 * run (writing on would only fail again, or fill what space the user frees meanwhile).
 */
const STORE_UNWRITABLE = new Set(["DISK_FULL", "READ_ONLY_FS", "PERMISSION_DENIED"]);

function validate(o: IngestOptions): void {
  const bad = (m: string) =>
    new IngestError("BAD_OPTIONS", m, {
      options: { ...o, drain: undefined, signal: undefined, folders: undefined },
    });
  if (o.workers !== undefined && !(Number.isInteger(o.workers) && o.workers >= 0))
    throw bad(`workers must be an integer >= 0, got ${o.workers}`);
  if (o.threads !== undefined && !(Number.isInteger(o.threads) && o.threads >= 1))
    throw bad(`threads must be an integer >= 1, got ${o.threads}`);
  if (o.chunk !== undefined && !(Number.isInteger(o.chunk) && o.chunk >= 8 && o.chunk <= 512))
    throw bad(`chunk must be an integer in 8..512, got ${o.chunk}`);
  if (
    o.zstdLevel !== undefined &&
    !(Number.isInteger(o.zstdLevel) && o.zstdLevel >= 1 && o.zstdLevel <= 22)
  )
    throw bad(`zstd level must be an integer in 1..22, got ${o.zstdLevel}`);
  if (o.attempts !== undefined && !(Number.isInteger(o.attempts) && o.attempts >= 1))
    throw bad(`attempts must be an integer >= 1, got ${o.attempts}`);
  if (o.maskMode !== undefined && o.maskMode !== "kdsb17" && o.maskMode !== "improved")
    throw bad(`mask mode must be kdsb17 or improved, got ${o.maskMode}`);
}

/**
 * The ingest flow: patient folders -> a Piscina pool (read -> HU -> resample -> segment ->
 * crop -> atomic write, all in the worker) -> events. Holds the store's write lock for the
 * whole run and cleans up leftovers of crashed runs first. A bad patient is a `failed`
 * event; the rest go on. Errors of the run itself (bad root, store locked, other
 * parameters, bad labels file) error the Observable. Unsubscribing aborts hard.
 *
 * ```ts
 * ingest({ root: "stage1", store: "lungs.zarr" }).subscribe((e) => console.log(e.type));
 * ```
 */
export function ingest(opts: IngestOptions): Observable<IngestEvent> {
  return new Observable<IngestEvent>((subscriber) => {
    const hard = new AbortController();
    const onAbort = () => hard.abort(opts.signal?.reason);
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    if (opts.signal?.aborted) hard.abort();
    const emit = (e: IngestEvent) => subscriber.next(e);
    run(opts, hard.signal, emit).then(
      () => subscriber.complete(),
      (err) => subscriber.error(err),
    );
    return () => {
      opts.signal?.removeEventListener("abort", onAbort);
      hard.abort();
    };
  });
}

async function run(
  opts: IngestOptions,
  signal: AbortSignal,
  emit: (e: IngestEvent) => void,
): Promise<void> {
  validate(opts);
  const t0 = performance.now();
  const params = preprocessingParams(opts.maskMode ?? "kdsb17");
  const web = opts.root.startsWith("dicomweb+");
  const root = web ? opts.root : path.resolve(opts.root);
  const st = web ? undefined : await fs.stat(root).catch(() => undefined);
  if (!web && !st?.isDirectory())
    throw new IngestError("BAD_ROOT", `DICOM root ${root} is not a folder`, { root });
  if (web && opts.queue !== undefined)
    throw new IngestError("BAD_OPTIONS", "a DICOMweb source runs in one process: drop --queue", {
      root,
    });
  const labelsText = opts.labels !== undefined ? await fs.readFile(opts.labels, "utf8") : undefined;
  if (labelsText !== undefined) parseLabelsCsv(labelsText, opts.labels as string); // fail before any work
  const store = await openStore(opts.store, { create: true, params });
  // The DICOMweb client (undici), the queue (BullMQ, ioredis) and the in-thread task (the
  // whole preprocessing stack) load only on the path that uses them: a folder ingest's
  // main thread needs none of them (the workers load the task).
  if (web) {
    const { runDicomweb } = await import("./dicomweb/run-dicomweb.js");
    return runDicomweb({ opts, store, params, signal, emit, t0 });
  }
  if (opts.queue !== undefined) {
    const { runQueued } = await import("./queue/run-queued.js");
    return runQueued({ opts, root, store, labelsText, signal, emit, t0 });
  }
  const lock = await store.lock({ timeoutMs: opts.lockTimeoutMs ?? 0, purpose: `ingest ${root}` });
  const workers = opts.workers ?? defaultWorkers();
  let pool: IngestPool | undefined;
  const summary = newSummary(root, store.root, workers);
  try {
    const rec = await store.recover();
    if (rec.rolledForward.length || rec.removed.length) emit({ type: "recovered", ...rec });
    const folders = opts.folders
      ? await collect(opts.folders)
      : await collect(patientFolders(root));
    summary.total = folders.length;
    emit({ type: "discovered", total: folders.length, root });
    if (workers > 0) pool = createIngestPool(workers, opts.threads);
    const runTask = (task: IngestTask): Promise<IngestTaskResult> =>
      pool
        ? pool.run(task, { signal })
        : import("./run-task.js").then((m) => m.runIngestTask(task));
    const stopped = () =>
      signal.aborted || opts.drain?.aborted === true || summary.halted !== undefined;

    const one = (f: PatientFolder): Observable<IngestEvent> =>
      defer(() => {
        if (stopped()) {
          summary.notStarted++;
          summary.notStartedIds.push(f.id);
          return EMPTY;
        }
        const task: IngestTask = {
          id: f.id,
          dir: f.dir,
          store: store.root,
          params,
          maskMode: opts.maskMode ?? "kdsb17",
          chunk: opts.chunk ?? 64,
          zstdLevel: opts.zstdLevel ?? 3,
          force: opts.force ?? false,
          lungflowVersion: opts.lungflowVersion ?? "0.1.0",
        };
        return concat(
          of<IngestEvent>({ type: "started", id: f.id, dir: f.dir }),
          from(
            runTask(task).catch((err): IngestTaskResult | "discarded" => {
              if (signal.aborted) return "discarded";
              const e = new IngestError(
                "WORKER_FAILED",
                `worker failed on patient ${f.id}: ${(err as Error)?.message ?? err}`,
                { patientId: f.id, dir: f.dir },
                { cause: err },
              );
              return {
                status: "failed",
                id: f.id,
                stage: "worker",
                error: serializeError(e),
                timings: {},
              };
            }),
          ).pipe(map((r): IngestEvent => toEvent(r, f))),
        );
      });

    await lastValueFrom(
      from(folders).pipe(
        mergeMap(one, Math.max(1, workers)),
        tap((e) => {
          account(summary, e);
          emit(e);
          if (
            e.type === "failed" &&
            e.error.tag === "StoreError" &&
            STORE_UNWRITABLE.has(e.error.code) &&
            summary.halted === undefined
          ) {
            summary.halted = { id: e.id, code: e.error.code, message: e.error.message };
            emit({ type: "halted", ...summary.halted });
          }
        }),
      ),
      { defaultValue: undefined },
    );
    if (labelsText !== undefined && !signal.aborted && summary.halted === undefined) {
      const r = await store.importLabels(labelsText, { file: opts.labels, unknown: "ignore" });
      emit({ type: "labels", ...r });
    }
  } finally {
    await pool?.destroy().catch(() => undefined);
    // Workers killed by an abort may leave staging folders: clean them while we hold the lock.
    await store.recover().catch(() => undefined);
    // A lock that cannot be removed (the filesystem went read-only) is stale once this
    // process ends and the next run breaks it; it must not hide this run's result.
    await lock.release().catch(() => undefined);
  }
  finishSummary(summary, t0);
  emit({ type: "finished", summary });
}

async function collect<T>(o: Observable<T>): Promise<T[]> {
  const out: T[] = [];
  await lastValueFrom(o.pipe(tap((x) => out.push(x))), { defaultValue: undefined });
  return out;
}
