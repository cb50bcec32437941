import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import type { PatchStore, PreprocessingParams } from "@lungflow/patch-store";
import { from, lastValueFrom, mergeMap } from "rxjs";
import { serializeError } from "../errors.js";
import type { IngestEvent } from "../events.js";
import type { IngestOptions } from "../ingest.js";
import { createIngestPool, defaultWorkers, type IngestPool } from "../pool.js";
import { runIngestTask } from "../run-task.js";
import { account, finishSummary, newSummary, toEvent } from "../summary.js";
import type { IngestTask, IngestTaskResult } from "../task.js";
import { DicomWebClient } from "./client.js";
import { type DicomWebPatient, listDicomWebPatients } from "./list-patients.js";

/**
 * `ingest` from a DICOMweb server (`dicomweb+http://host:port/dicom-web`): QIDO-RS lists
 * the patients; one whose QIDO listing hash equals the stored patient's is skipped without
 * fetching anything; the others' series are retrieved with WADO-RS into a temporary
 * folder and run through the same per-patient flow as a folder. With `watch`, lists again
 * every `pollMs` and takes what is new or changed until stopped.
 */
export async function runDicomweb(a: {
  opts: IngestOptions;
  store: PatchStore;
  params: PreprocessingParams;
  signal: AbortSignal;
  emit: (e: IngestEvent) => void;
  t0: number;
}): Promise<void> {
  const { opts, store, emit } = a;
  const base = opts.root.replace(/^dicomweb\+/, "");
  const workers = opts.workers ?? defaultWorkers();
  const summary = newSummary(opts.root, store.root, workers);
  const lock = await store.lock({ timeoutMs: opts.lockTimeoutMs ?? 0, purpose: `ingest ${base}` });
  const client = new DicomWebClient(base, { connections: opts.dicomweb?.connections });
  const tmp = await fs.mkdtemp(path.join(opts.dicomweb?.tmpDir ?? os.tmpdir(), "lungflow-wado-"));
  let pool: IngestPool | undefined;
  const stopped = () => a.signal.aborted || opts.drain?.aborted === true;
  const out = (e: IngestEvent) => {
    account(summary, e);
    emit(e);
  };
  try {
    const rec = await store.recover();
    if (rec.rolledForward.length || rec.removed.length) emit({ type: "recovered", ...rec });
    if (workers > 0) pool = createIngestPool(workers);
    const runTask = (t: IngestTask): Promise<IngestTaskResult> =>
      pool ? pool.run(t, { signal: a.signal }) : runIngestTask(t);
    const seen = new Map<string, string>(); // id -> source hash already handled this run
    const one = async (p: DicomWebPatient): Promise<void> => {
      if (stopped()) {
        summary.notStarted++;
        summary.notStartedIds.push(p.id);
        return;
      }
      seen.set(p.id, p.sourceHash);
      const existing = await store.getPatient(p.id).catch(() => undefined);
      if (existing?.sourceHash === p.sourceHash && !opts.force) {
        out({
          type: "skipped",
          id: p.id,
          reason: "unchanged",
          sourceHash: p.sourceHash,
          dicomBytes: 0,
        });
        return;
      }
      const dir = path.join(tmp, p.id);
      const where = `${base}/studies/${p.study}`;
      emit({ type: "started", id: p.id, dir: where });
      try {
        for (const se of p.series)
          await client.retrieveSeries(p.study, se, path.join(dir, se), a.signal);
        const r = await runTask({
          id: p.id,
          dir,
          store: store.root,
          params: a.params,
          maskMode: opts.maskMode ?? "kdsb17",
          chunk: opts.chunk ?? 64,
          zstdLevel: opts.zstdLevel ?? 3,
          force: opts.force ?? false,
          lungflowVersion: opts.lungflowVersion ?? "0.1.0",
          sourceHash: p.sourceHash,
        });
        out(toEvent(r, { id: p.id, dir: where }));
      } catch (err) {
        if (a.signal.aborted) out({ type: "discarded", id: p.id });
        else
          out({ type: "failed", id: p.id, dir: where, stage: "fetch", error: serializeError(err) });
      } finally {
        await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
    };
    for (let pass = 0; ; pass++) {
      const listed = await listDicomWebPatients(client, opts.dicomweb ?? {});
      const fresh = listed.patients.filter((p) => seen.get(p.id) !== p.sourceHash);
      const failures = listed.failures.filter((f) => !seen.has(f.id));
      if (pass === 0 || fresh.length + failures.length > 0) {
        summary.total += fresh.filter((p) => !seen.has(p.id)).length + failures.length;
        emit({ type: "discovered", total: fresh.length + failures.length, root: opts.root });
      }
      for (const f of failures) {
        seen.set(f.id, "failed");
        out({ type: "failed", id: f.id, dir: base, stage: "list", error: serializeError(f.error) });
      }
      await lastValueFrom(from(fresh).pipe(mergeMap((p) => one(p), Math.max(1, workers))), {
        defaultValue: undefined,
      });
      if (!opts.dicomweb?.watch || stopped()) break;
      await sleep(opts.dicomweb.pollMs ?? 10_000, a.signal, opts.drain);
      if (stopped()) break;
    }
  } finally {
    await pool?.destroy().catch(() => undefined);
    await client.close().catch(() => undefined);
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    await store.recover().catch(() => undefined);
    await lock.release().catch(() => undefined);
  }
  finishSummary(summary, a.t0);
  emit({ type: "finished", summary });
}

function sleep(ms: number, ...signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    for (const s of signals)
      s?.addEventListener(
        "abort",
        () => {
          clearTimeout(t);
          resolve();
        },
        { once: true },
      );
  });
}
