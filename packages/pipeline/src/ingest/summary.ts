import type { IngestEvent, IngestSummary } from "./events.js";
import type { PatientFolder } from "./patient-folders.js";
import type { IngestTaskResult, StageTimings } from "./task.js";

export const STAGES: (keyof StageTimings)[] = [
  "hash",
  "read",
  "resample",
  "segment",
  "write",
  "total",
];

/** An empty summary of a run over `root` into `store`. */
export function newSummary(root: string, store: string, workers: number): IngestSummary {
  return {
    root,
    store,
    workers,
    total: 0,
    ingested: 0,
    replaced: 0,
    skipped: 0,
    failed: 0,
    discarded: 0,
    notStarted: 0,
    notStartedIds: [],
    stopped: false,
    durationMs: 0,
    dicomBytes: 0,
    patientsPerMin: 0,
    dicomMBps: 0,
    stageMs: Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<keyof StageTimings, number>,
    failures: [],
  };
}

/** Fills the totals that depend on the run's duration. */
export function finishSummary(s: IngestSummary, t0: number): void {
  s.stopped = s.notStarted > 0 || s.discarded > 0 || s.halted !== undefined;
  s.durationMs = Math.round(performance.now() - t0);
  const min = s.durationMs / 60000;
  s.patientsPerMin = min > 0 ? round2(s.ingested / min) : 0;
  s.dicomMBps = s.durationMs > 0 ? round2(s.dicomBytes / 1e6 / (s.durationMs / 1000)) : 0;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The event of one patient's task result. */
export function toEvent(r: IngestTaskResult | "discarded", f: PatientFolder): IngestEvent {
  if (r === "discarded") return { type: "discarded", id: f.id };
  switch (r.status) {
    case "skipped":
      return {
        type: "skipped",
        id: r.id,
        reason: "unchanged",
        sourceHash: r.sourceHash,
        dicomBytes: r.dicomBytes,
      };
    case "failed":
      return { type: "failed", id: r.id, dir: f.dir, stage: r.stage, error: r.error };
    case "ingested": {
      const { status: _s, sourceShape: _ss, ...rest } = r;
      return { type: "ingested", ...rest };
    }
  }
}

/** Adds one event to the summary's counts. */
export function account(s: IngestSummary, e: IngestEvent): void {
  switch (e.type) {
    case "skipped":
      s.skipped++;
      break;
    case "failed":
      s.failed++;
      s.failures.push({ id: e.id, stage: e.stage, code: e.error.code, message: e.error.message });
      break;
    case "discarded":
      s.discarded++;
      break;
    case "ingested":
      s.ingested++;
      if (e.replaced) s.replaced++;
      s.dicomBytes += e.dicomBytes;
      for (const k of STAGES) s.stageMs[k] += e.timings[k] ?? 0;
      break;
  }
}
