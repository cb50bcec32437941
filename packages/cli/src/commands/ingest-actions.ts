import * as fs from "node:fs/promises";
import type { IngestEvent, IngestSummary } from "@lungflow/pipeline/ingest";
import cliProgress from "cli-progress";
import { intOption, numberOption } from "../options.js";
import { LUNGFLOW_VERSION } from "../program.js";
import type { IngestCliOptions } from "./ingest.js";

function line(e: IngestEvent): string | undefined {
  switch (e.type) {
    case "recovered":
      return `recovered: ${e.rolledForward.length} finished write(s) moved in, ${e.removed.length} leftover(s) removed`;
    case "discovered":
      return `found ${e.total} patient folder(s) in ${e.root}`;
    case "started":
      return undefined;
    case "skipped":
      return `skipped   ${e.id} (unchanged)`;
    case "ingested": {
      const t = e.timings;
      return `ingested  ${e.id} ${e.shape.join("x")} ${e.replaced ? "(replaced) " : ""}in ${(t.total / 1000).toFixed(1)} s (read ${(t.read / 1000).toFixed(1)}, resample ${(t.resample / 1000).toFixed(1)}, segment ${(t.segment / 1000).toFixed(1)}, write ${(t.write / 1000).toFixed(1)})`;
    }
    case "failed":
      return `FAILED    ${e.id} at ${e.stage}: ${e.error.code}: ${e.error.message}`;
    case "discarded":
      return `discarded ${e.id} (interrupted, nothing written)`;
    case "halted":
      return `stopping: ${e.code}: the store cannot be written; patients in flight finish, no other starts`;
    case "labels":
      return `labels: ${e.count} imported, ${e.changed} changed${e.ignored.length ? `, ${e.ignored.length} for patients not in the store` : ""}`;
    case "finished":
      return undefined;
  }
}

function summaryText(s: IngestSummary): string {
  const lines = [
    `${s.ingested} ingested (${s.replaced} replaced), ${s.skipped} unchanged, ${s.failed} failed${s.discarded ? `, ${s.discarded} discarded` : ""}${s.notStarted ? `, ${s.notStarted} not started` : ""} of ${s.total} in ${(s.durationMs / 1000).toFixed(1)} s ${s.queue ? `through queue ${s.queue.name} on ${s.queue.url}` : `with ${s.workers} worker(s)`}`,
  ];
  if (s.ingested) lines.push(`${s.patientsPerMin} patients/min, ${s.dicomMBps} MB/s of DICOM`);
  for (const f of s.failures) lines.push(`  ${f.id}: ${f.code} (${f.stage}) ${f.message}`);
  if (s.halted) {
    const ids = s.notStartedIds;
    const shown =
      ids.length > 10 ? `${ids.slice(0, 10).join(", ")}, ... (${ids.length})` : ids.join(", ");
    lines.push(
      `stopped by ${s.halted.code} at patient ${s.halted.id}; not started: ${shown || "none"}`,
      "patients not reported ingested are as they were before this run; fix the cause and run the same command again (unchanged patients are skipped)",
    );
  }
  return lines.join("\n");
}

export async function ingest(root: string, o: IngestCliOptions): Promise<void> {
  // The ingest subpath: the store, RxJS and Piscina; not the training stack, BullMQ or undici.
  const { ingest } = await import("@lungflow/pipeline/ingest");
  const drain = new AbortController();
  const hard = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      drain.abort();
      process.stderr.write(
        o.queue
          ? "\nstopping: jobs no worker took are taken off the queue, running ones finish; Ctrl-C again to stop following them\n"
          : "\nstopping: in-flight patients finish; Ctrl-C again to discard them\n",
      );
    } else hard.abort();
  };
  process.on("SIGINT", onSigint);
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            "ingest [{bar}] {value}/{total} | {eta_formatted} left | ok {ok} skip {skip} fail {fail} | {last}",
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const counts = { ok: 0, skip: 0, fail: 0, last: "" };
  const events: IngestEvent[] = [];
  let summary: IngestSummary | undefined;
  // Milliseconds from process start to the first patient task handed to the workers.
  let readyMs: number | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      ingest({
        root,
        store: o.store,
        labels: o.labels,
        workers: intOption("workers", o.workers, 1),
        threads: intOption("threads", o.threads, 1),
        force: o.force,
        chunk: intOption("chunk", o.chunk, 1),
        zstdLevel: intOption("zstd-level", o.zstdLevel, 1, 22),
        maskMode: o.maskMode as "kdsb17" | "improved",
        lockTimeoutMs:
          numberOption("lock-timeout", o.lockTimeout, (n) => n >= 0, "seconds >= 0") * 1000,
        queue: o.queue,
        queueName: o.queueName,
        attempts: intOption("attempts", o.attempts, 1),
        dicomweb: root.startsWith("dicomweb+")
          ? {
              since: o.since,
              modality: o.modality,
              study: o.study,
              idFrom: o.idFrom === "study" ? "StudyInstanceUID" : "PatientID",
              watch: o.watch,
              pollMs: numberOption("poll", o.poll, (n) => n > 0, "seconds > 0") * 1000,
            }
          : undefined,
        lungflowVersion: LUNGFLOW_VERSION,
        drain: drain.signal,
        signal: hard.signal,
      }).subscribe({
        next: (e) => {
          if (e.type === "started") readyMs ??= Math.round(performance.now());
          if (e.type !== "started") events.push(e);
          if (e.type === "finished") summary = e.summary;
          if (bar) {
            if (e.type === "discovered") bar.start(e.total, 0, counts);
            else if (
              e.type === "ingested" ||
              e.type === "skipped" ||
              e.type === "failed" ||
              e.type === "discarded"
            ) {
              if (e.type === "ingested") counts.ok++;
              if (e.type === "skipped") counts.skip++;
              if (e.type === "failed") counts.fail++; // listed in the summary
              counts.last = e.id;
              bar.increment(1, counts);
            } else if (e.type !== "started" && e.type !== "finished") {
              const l = line(e);
              if (l) console.error(l);
            }
          } else {
            const l = line(e);
            if (l) console.log(l);
          }
        },
        error: reject,
        complete: resolve,
      });
    });
  } catch (err) {
    bar?.stop();
    process.off("SIGINT", onSigint);
    throw err; // runAction prints a lungflow error as `lungflow ingest: CODE: message`
  }
  bar?.stop();
  process.off("SIGINT", onSigint);
  if (!summary) throw new Error("ingest finished without a summary");
  console.log(summaryText(summary));
  if (summary.halted && o.labels) console.log(`labels from ${o.labels} not imported`);
  if (o.report) {
    try {
      await fs.writeFile(
        o.report,
        `${JSON.stringify({ summary, events, startup: { readyMs } }, null, 2)}\n`,
      );
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      console.error(`lungflow ingest: cannot write the report ${o.report}: ${e.message}`);
      process.exitCode = 1;
      return;
    }
  }
  // A store that cannot be written stops the run: that is a fatal error, not a bad patient.
  process.exitCode = summary.halted ? 1 : summary.failed > 0 ? 2 : summary.stopped ? 130 : 0;
}
