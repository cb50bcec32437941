#!/usr/bin/env node
// The whole suite: build and test every package through turbo (cached), then add up the
// per-package TAP summaries and end with one line CI reads: "N passed, N failed, N skipped".
// Each task's log is printed in one piece when it ends (--log-order=grouped), so the two
// tasks running at once do not interleave. The summary table gives per package the build and
// test task wall times (from turbo's run summary; "cached" on a cache hit) and the test
// runner's own duration (# duration_ms of the TAP file).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
process.env.TURBO_TELEMETRY_DISABLED = "1";
// --checks: also run every package's lint and typecheck tasks in the same turbo run (CI);
// each failed lint/typecheck/build task counts as one failure in the last line.
let extra = process.argv.slice(2);
const checks = extra.includes("--checks");
extra = extra.filter((a) => a !== "--checks");
const tasks = checks ? ["lint", "typecheck", "test"] : ["test"];
const t0 = Date.now();
const r = spawnSync(
  "pnpm",
  [
    "exec",
    "turbo",
    "run",
    ...tasks,
    "--log-order=grouped",
    "--continue",
    "--concurrency=2",
    "--summarize",
    ...extra,
  ],
  { cwd: root, stdio: "inherit", env: process.env },
);

// Per-task wall times from turbo's run summary (.turbo/runs/<id>.json) of this run.
const taskTimes = new Map(); // "<dir>#<task>" -> "12.3 s" | "cached" | "12.3 s (exit 1)"
const failedTasks = []; // non-test tasks that failed: "<package>#<task>"
const runsDir = path.join(root, ".turbo", "runs");
try {
  const newest = fs
    .readdirSync(runsDir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => path.join(runsDir, f))
    .filter((f) => fs.statSync(f).mtimeMs >= t0)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
  if (newest) {
    const summary = JSON.parse(fs.readFileSync(newest, "utf8"));
    for (const t of summary.tasks ?? []) {
      const ex = t.execution ?? {};
      let v = "";
      if (t.cache?.status === "HIT") v = "cached";
      else if (ex.startTime && ex.endTime)
        v = `${((ex.endTime - ex.startTime) / 1000).toFixed(1)} s`;
      if (ex.exitCode && ex.exitCode !== 0) {
        v += ` (exit ${ex.exitCode})`;
        if (t.task !== "test") failedTasks.push(t.taskId);
      }
      taskTimes.set(`${t.directory}#${t.task}`, v);
    }
    fs.rmSync(newest, { force: true });
  }
} catch {
  // No summary: the table has no task times.
}

let pass = 0;
let fail = 0;
let skip = 0;
const rows = [];
const dirs = [
  ...fs.readdirSync(path.join(root, "packages")).map((d) => path.join("packages", d)),
  "test",
];
const fmtS = (ms) => `${(ms / 1000).toFixed(1)} s`;
const col = (s, n) => String(s).padStart(n);
rows.push(
  `${"package".padEnd(28)} ${col("passed", 6)} ${col("failed", 6)} ${col("skipped", 7)} ${col("build", 14)} ${col("test task", 14)} ${col("tests", 9)}${checks ? ` ${col("lint", 9)} ${col("typecheck", 14)}` : ""}`,
);
for (const d of dirs) {
  const build = taskTimes.get(`${d}#build`) ?? "";
  const testTask = taskTimes.get(`${d}#test`) ?? "";
  const checkCols = checks
    ? ` ${col(taskTimes.get(`${d}#lint`) ?? "", 9)} ${col(taskTimes.get(`${d}#typecheck`) ?? "", 14)}`
    : "";
  // Only the packages this run tested (a --filter run leaves older results of the others).
  if (taskTimes.size > 0 && !taskTimes.has(`${d}#test`)) continue;
  const tap = path.join(root, d, ".test-results", "results.tap");
  if (!fs.existsSync(tap)) {
    if (fs.existsSync(path.join(root, d, "package.json")))
      rows.push(`${d.padEnd(28)} no results (build or test runner failed?) ${build} ${testTask}`);
    continue;
  }
  const text = fs.readFileSync(tap, "utf8");
  const num = (k) => {
    const m = text.match(new RegExp(`^# ${k} (\\d+(?:\\.\\d+)?)$`, "m"));
    return m ? Number(m[1]) : 0;
  };
  const complete = /^# tests \d+$/m.test(text);
  const p = num("pass");
  // A cancelled test (its file crashed or never finished) did not pass: count it as failed,
  // and so is a TAP file cut off before its summary (the runner died).
  const f = num("fail") + num("cancelled") + (complete ? 0 : 1);
  const s = num("skipped") + num("todo");
  pass += p;
  fail += f;
  skip += s;
  rows.push(
    `${d.padEnd(28)} ${col(p, 6)} ${col(f, 6)} ${col(s, 7)} ${col(build, 14)} ${col(testTask, 14)} ${col(fmtS(num("duration_ms")), 9)}${checkCols}${complete ? "" : "  (incomplete TAP: the runner died)"}`,
  );
}
console.log("\nSuite summary");
for (const row of rows) console.log(row);
for (const t of failedTasks) console.log(`FAILED ${t}`);
fail += failedTasks.length;
console.log(`total time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (r.status !== 0 && fail === 0) fail = 1; // any other turbo or runner failure counts too
console.log(`${pass} passed, ${fail} failed, ${skip} skipped`);
process.exit(r.status === 0 && fail === 0 ? 0 : 1);
