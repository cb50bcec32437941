import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { openStore } from "@lungflow/patch-store";
import { mulberry32 } from "@lungflow/volume";
import { byType, cohort, runIngest, tmpDir } from "./ingest-helpers.ts";

const CHILD = fileURLToPath(new URL("./fixtures/ingest-child.mjs", import.meta.url));

/** Runs the child ingest; kills it with SIGKILL `killAfterMs` after it lists the folders. */
function runChild(
  root: string,
  store: string,
  workers: number,
  force: boolean,
  killAfterMs?: number,
): Promise<{
  code: number | null;
  signal: string | null;
  lines: string[];
  err: string;
  ms: number;
  workMs: number;
}> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(
      process.execPath,
      [CHILD, root, store, String(workers), force ? "1" : "0"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const lines: string[] = [];
    let tDiscovered = t0;
    let buf = "";
    let err = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      for (const l of parts) {
        lines.push(l);
        if (!l.startsWith("discovered")) continue;
        tDiscovered = Date.now();
        if (killAfterMs !== undefined) setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      resolve({ code, signal, lines, err, ms: Date.now() - t0, workMs: Date.now() - tDiscovered });
    });
  });
}

test("SIGKILL at random moments never corrupts the store; a re-run completes every patient once", async (tc) => {
  const base = tmpDir("ingest-crash-");
  const root = path.join(base, "dicom");
  const storePath = path.join(base, "s.zarr");
  const c = await cohort(root, 2, 5);
  const ids = c.patients.map((p) => p.patientId).sort();

  // A full run measures how long an ingest takes, so kills spread over all of it.
  const full = await runChild(root, storePath, 0, false);
  assert.equal(full.code, 0, full.err);
  let runMs = Math.max(200, full.workMs);
  const rand = mulberry32(2024);
  // At least 10 trials, and more (up to 30) until 5 were killed mid-run: how long a run
  // takes depends on the load of the machine, and a kill that comes after the end proves
  // nothing.
  const WANT_KILLED = 5;
  let trials = 0;
  let killedMidRun = 0;
  let withLeftovers = 0;
  for (let t = 0; t < 30 && (t < 10 || killedMidRun < WANT_KILLED); t++) {
    trials++;
    // Spread over the whole run (after the folders are listed), mostly inside it.
    const at = Math.round(runMs * 0.95 * rand());
    const r = await runChild(root, storePath, 0, true, at);
    assert.ok(r.code === 0 || r.signal === "SIGKILL", `trial ${t}: ${r.err}`);
    if (r.signal === "SIGKILL") killedMidRun++;
    // Finished before the kill: runs are quicker now, aim the next kills earlier.
    else runMs = Math.max(100, Math.min(runMs, r.workMs));
    const store = await openStore(storePath);
    const v = await store.verify();
    if (v.leftovers.length) withLeftovers++;
    assert.ok(v.ok, `trial ${t} (kill at ${at} ms): ${JSON.stringify(v.problems)}`);
    const listed = await store.listPatients();
    assert.ok(
      listed.every((id) => ids.includes(id)),
      `trial ${t}: unexpected ${listed}`,
    );
  }
  tc.diagnostic(
    `${killedMidRun} of ${trials} killed mid-run, ${withLeftovers} of them mid-write (staging left behind)`,
  );
  assert.ok(
    killedMidRun >= WANT_KILLED,
    `only ${killedMidRun} of ${trials} trials were killed mid-run`,
  );

  // A re-run (in this process) cleans up and completes: every patient exactly once.
  const ev = await runIngest({ root, store: storePath, workers: 1 });
  const seen = [...byType(ev, "ingested"), ...byType(ev, "skipped")].sort();
  assert.deepEqual(seen, ids);
  assert.deepEqual(byType(ev, "failed"), []);
  const store = await openStore(storePath);
  assert.deepEqual(await store.listPatients(), ids);
  const v = await store.verify();
  assert.ok(v.ok);
  assert.deepEqual(v.leftovers, []);
});

test("two ingests started at once on one store: one runs, the other is refused or waits its turn", async () => {
  const base = tmpDir("ingest-two-");
  const root = path.join(base, "dicom");
  const storePath = path.join(base, "s.zarr");
  const c = await cohort(root, 2, 8);
  const ids = c.patients.map((p) => p.patientId).sort();
  const [a, b] = await Promise.all([
    runChild(root, storePath, 1, false),
    runChild(root, storePath, 1, false),
  ]);
  const outcomes = [a, b].map((r) =>
    r.code === 0 ? "ok" : /STORE_LOCKED/.test(r.err) ? "locked" : `error ${r.code}: ${r.err}`,
  );
  assert.ok(outcomes.includes("ok"), JSON.stringify(outcomes));
  assert.ok(
    outcomes.every((o) => o === "ok" || o === "locked"),
    JSON.stringify(outcomes),
  );
  // Each patient was written by exactly one of them.
  const written = [...a.lines, ...b.lines]
    .filter((l) => l.startsWith("ingested "))
    .map((l) => l.slice(9))
    .sort();
  assert.deepEqual(written, ids);
  const store = await openStore(storePath);
  assert.deepEqual(await store.listPatients(), ids);
  assert.ok((await store.verify()).ok);
});
