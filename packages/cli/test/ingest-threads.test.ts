// `lungflow ingest --threads`: the pool's threads reach the pipeline. With one worker, one
// thread leaves nobody to help the patient; a second thread takes parts of its split work
// (the report's `helpedParts`). Same stored patients either way.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { writeCohort } from "@lungflow/phantom";
import { main } from "../src/program.ts";

const base = fs.mkdtempSync(path.join(tmpdir(), "cli-threads-"));
after(() => fs.rmSync(base, { recursive: true, force: true }));

/** Runs `lungflow ...args` in-process; returns the exit code and the printed lines. */
async function lungflow(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  process.exitCode = 0;
  try {
    return { code: await main(["node", "lungflow", ...args]), out: out.join("\n") };
  } finally {
    console.log = log;
    console.error = err;
    process.exitCode = 0;
  }
}

interface Ingested {
  type: "ingested";
  id: string;
  helpedParts: number;
  sourceHash: string;
  shape: number[];
}

async function ingestWith(root: string, threads: string): Promise<Ingested[]> {
  const report = path.join(base, `report-${threads}.json`);
  const r = await lungflow(
    "ingest",
    root,
    "--store",
    path.join(base, `t${threads}.zarr`),
    "--workers",
    "1",
    "--threads",
    threads,
    "--report",
    report,
  );
  assert.equal(r.code, 0, r.out);
  const { events } = JSON.parse(fs.readFileSync(report, "utf8")) as { events: { type: string }[] };
  return events.filter((e): e is Ingested => e.type === "ingested");
}

test("ingest --workers 1 --threads 1 runs unhelped, --threads 2 is helped; same patients", async () => {
  const root = path.join(base, "dicom");
  const geometry = { matrix: 128, slices: 40, pixelSpacing: 0.9, sliceSpacing: 2.5 };
  await writeCohort({ out: root, patients: 2, seed: 8, ...geometry, groundTruth: false });
  const alone = await ingestWith(root, "1");
  const helped = await ingestWith(root, "2");
  assert.equal(alone.length, 2);
  assert.equal(helped.length, 2);
  assert.deepEqual(
    alone.map((e) => e.helpedParts),
    [0, 0],
  );
  // Each patient posts 4 split jobs (read, histogram, resample, clean); the idle thread takes
  // some of their parts.
  const parts = helped.reduce((n, e) => n + e.helpedParts, 0);
  assert.ok(parts > 0, "the second thread helped");
  const key = (es: Ingested[]) =>
    es.map((e) => `${e.id} ${e.sourceHash} ${e.shape.join("x")}`).sort();
  assert.deepEqual(key(helped), key(alone));
});

test("ingest and worker: --threads 0 is a usage error, exit 1", async () => {
  const ingest = await lungflow(
    "ingest",
    base,
    "--store",
    path.join(base, "u.zarr"),
    "--threads",
    "0",
  );
  assert.equal(ingest.code, 1, ingest.out);
  assert.match(ingest.out, /^lungflow ingest: --threads: expected an integer >= 1, got "0"$/m);
  const worker = await lungflow(
    "worker",
    "--queue",
    "redis://127.0.0.1:1",
    "--store",
    path.join(base, "u.zarr"),
    "--threads",
    "0",
  );
  assert.equal(worker.code, 1, worker.out);
  assert.match(worker.out, /^lungflow worker: --threads: expected an integer >= 1, got "0"$/m);
  assert.equal(fs.existsSync(path.join(base, "u.zarr")), false, "nothing written");
});
