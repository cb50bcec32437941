import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openStore } from "@lungflow/patch-store";
import { isLungflowError } from "@lungflow/volume";
import { Queue } from "bullmq";
import { lastValueFrom } from "rxjs";
import { type IngestEvent, queueWorker } from "../src/index.ts";
import { cohort, patient, runIngest, tmpDir } from "./ingest-helpers.ts";
import { redisMissing, startRedis, type TestRedis } from "./redis-server.ts";

const CHILD = fileURLToPath(new URL("./fixtures/queue-worker-child.mjs", import.meta.url));
const skip = redisMissing();

interface Child {
  proc: ChildProcess;
  lines: string[];
  err: string;
  /** Resolves with the first line matching `re`; rejects at once when the process has exited (a child that fails to start fails the test in seconds, with its stderr). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<void>;
}

/** How long a worker process may take to print its first line before the test gives up on it. */
const START_TIMEOUT_MS = 20_000;

function startWorker(queue: string, name: string, store: string): Child {
  const proc = spawn(process.execPath, [CHILD, queue, name, store, "1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let buf = "";
  let exit: string | undefined;
  const died = (re: RegExp) =>
    new Error(
      `worker process ${exit} before printing ${re}; stdout: ${lines.join(" | ")}; stderr: ${c.err.trim()}`,
    );
  const c: Child = {
    proc,
    lines,
    err: "",
    waitFor(re, timeoutMs = 30_000) {
      const hit = lines.find((l) => re.test(l));
      if (hit) return Promise.resolve(hit);
      if (exit !== undefined) return Promise.reject(died(re));
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () =>
            reject(
              new Error(
                `no ${re} in ${timeoutMs} ms; stdout: ${lines.join(" | ")}; stderr: ${c.err.trim()}`,
              ),
            ),
          timeoutMs,
        );
        t.unref(); // Promise.race leaves the losers waiting: they must not hold the process
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(t);
            resolve(l);
          },
          reject: (e) => {
            clearTimeout(t);
            reject(e);
          },
        });
      });
    },
    exited: new Promise((resolve) =>
      proc.on("exit", (code, sig) => {
        exit = sig ? `killed by ${sig}` : `exited with code ${code}`;
        resolve();
      }),
    ),
  };
  // stderr may still be arriving when "exit" fires; "close" comes after both pipes end.
  proc.on("close", () => {
    for (const w of waiters.splice(0)) w.reject(died(w.re));
  });
  proc.stdout?.on("data", (d) => {
    buf += d;
    const parts = buf.split("\n");
    buf = parts.pop() ?? "";
    for (const l of parts) {
      lines.push(l);
      for (const w of [...waiters]) {
        if (w.re.test(l)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(l);
        }
      }
    }
  });
  proc.stderr?.on("data", (d) => {
    c.err += d;
  });
  return c;
}

const children: Child[] = [];
let redis: TestRedis | undefined;
// A failed test must not leave the enqueuing ingest waiting on the queue (it would hold the process).
const stopRuns = new AbortController();
after(async () => {
  stopRuns.abort();
  for (const c of children) if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
  await redis?.stop();
});

function outcomes(ev: IngestEvent[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const e of ev) {
    if (e.type !== "ingested" && e.type !== "skipped" && e.type !== "failed") continue;
    m.set(e.id, [...(m.get(e.id) ?? []), e.type === "failed" ? `failed ${e.error.code}` : e.type]);
  }
  return m;
}

test("queue: 3 worker processes, one SIGKILLed mid-job and Redis restarted mid-run; every patient ends once, a DICOM error fails once", {
  skip,
  timeout: 120_000,
}, async (tc) => {
  redis = await startRedis();
  const base = tmpDir("ingest-queue-");
  const root = path.join(base, "dicom");
  const storePath = path.join(base, "s.zarr");
  const c = await cohort(root, 6, 31);
  await patient(path.join(root, "zz-bad"), 77, "sagittal");
  const good = c.patients.map((p) => p.patientId).sort();
  const name = "q1";

  // The store is made by the first ingest; workers open it, so enqueue first (no worker yet).
  const run = runIngest({
    root,
    store: storePath,
    queue: redis.url,
    queueName: name,
    signal: stopRuns.signal,
  });
  run.catch(() => {}); // awaited below; a test that fails before must not add an unhandled rejection
  await new Promise((r) => setTimeout(r, 1500));
  const workers = [0, 1, 2].map(() => startWorker(redis?.url as string, name, storePath));
  children.push(...workers);
  // Each worker says "ready" once connected: one that cannot start fails the test here.
  await Promise.all(workers.map((w) => w.waitFor(/^ready$/, START_TIMEOUT_MS)));

  // Kill the first worker that starts a patient, in the middle of it.
  const victim = await Promise.race(
    workers.map((w) => w.waitFor(/^started /).then((l) => ({ w, id: l.split(" ")[1] }))),
  );
  await new Promise((r) => setTimeout(r, 300));
  victim.w.proc.kill("SIGKILL");
  await victim.w.exited;
  const survivors = workers.filter((w) => w !== victim.w);
  // Then Redis goes away for a while and comes back with its data (append-only file).
  await redis.restart(800);
  const seenBefore = survivors.map((w) => w.lines.length);
  // The victim's patient is taken up again by a survivor once its lock runs out (stalled job).
  const retried = new RegExp(`^done ${victim.id} (ingested|skipped)`);
  await Promise.race(survivors.map((w) => w.waitFor(retried, 40_000)));
  const ev = await run;
  // The survivors reconnected and went on taking jobs after the restart.
  const later = survivors.flatMap((w, k) => w.lines.slice(seenBefore[k]));
  assert.ok(
    later.filter((l) => l.startsWith("done ")).length >= 2,
    `after the restart: ${later.join(" | ")}`,
  );

  const fin = ev.find((e) => e.type === "finished");
  assert.ok(fin && fin.type === "finished");
  const s = fin.summary;
  tc.diagnostic(
    `${s.ingested} ingested, ${s.skipped} skipped, ${s.failed} failed in ${s.durationMs} ms; victim ${victim.id}`,
  );
  const out = outcomes(ev);
  // Every patient ends exactly once in the report.
  assert.deepEqual([...out.keys()].sort(), [...good, "zz-bad"].sort());
  for (const [id, o] of out) assert.equal(o.length, 1, `${id}: ${o}`);
  assert.deepEqual(out.get("zz-bad"), ["failed NOT_AXIAL"]);
  assert.deepEqual(
    s.failures.map((f) => [f.id, f.code]),
    [["zz-bad", "NOT_AXIAL"]],
  );
  for (const id of good) assert.ok(["ingested", "skipped"].includes(out.get(id)?.[0] ?? ""), id);

  // The DICOM error ran once and ended failed with its code in the queue.
  const q = new Queue(name, { connection: { host: "127.0.0.1", port: redis.port } });
  try {
    const failed = await q.getFailed();
    assert.equal(failed.length, 1);
    assert.equal(failed[0].data.id, "zz-bad");
    assert.equal(failed[0].attemptsMade, 1);
    assert.equal(JSON.parse(failed[0].failedReason).error.code, "NOT_AXIAL");
    assert.equal((await q.getCompleted()).length, good.length);
    const badStarts = workers.flatMap((w) => w.lines.filter((l) => l.startsWith("started zz-bad")));
    assert.equal(badStarts.length, 1, badStarts.join("; "));

    // The store: every good patient once, verified, no leftovers (the victim's were cleaned).
    const store = await openStore(storePath);
    assert.deepEqual(await store.listPatients(), good);
    const v = await store.verify();
    assert.ok(v.ok, JSON.stringify(v.problems));
    assert.deepEqual(v.leftovers, []);

    // Enqueuing the same folders again adds no job: all reported from the queue at once.
    const again = await runIngest({ root, store: storePath, queue: redis.url, queueName: name });
    const o2 = outcomes(again);
    for (const id of good) assert.deepEqual(o2.get(id), ["skipped"]);
    assert.deepEqual(o2.get("zz-bad"), ["failed NOT_AXIAL"]);
    const counts = await q.getJobCounts();
    assert.equal(counts.completed + counts.failed, good.length + 1);
    assert.equal(counts.waiting + counts.active + counts.delayed, 0);
  } finally {
    await q.close();
  }
  for (const w of survivors) w.proc.kill("SIGTERM");
  await Promise.all(survivors.map((w) => w.exited));
  for (const w of survivors) assert.ok(w.lines.includes("closed"), w.lines.join(" | "));
});

test("queue worker: bad workers or threads are BAD_OPTIONS before any connection", async () => {
  const opts = { queue: "redis://127.0.0.1:1", store: path.join(tmpDir("queue-opts-"), "s.zarr") };
  await assert.rejects(
    lastValueFrom(queueWorker({ ...opts, threads: 0 })),
    (e) => isLungflowError(e) && e.code === "BAD_OPTIONS" && /threads/.test(e.message),
  );
  await assert.rejects(
    lastValueFrom(queueWorker({ ...opts, workers: 1.5 })),
    (e) => isLungflowError(e) && e.code === "BAD_OPTIONS" && /workers/.test(e.message),
  );
});
