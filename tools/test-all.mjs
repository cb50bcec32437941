#!/usr/bin/env node
// The whole suite: build and test every package through turbo (cached), then add up the
// per-package TAP summaries and end with one line CI reads: "N passed, N failed, N skipped".
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
process.env.TURBO_TELEMETRY_DISABLED = "1";
const extra = process.argv.slice(2);
const t0 = Date.now();
const r = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", "test", "--log-prefix=none", "--continue", "--concurrency=2", ...extra],
  { cwd: root, stdio: "inherit", env: process.env },
);
let pass = 0;
let fail = 0;
let skip = 0;
const rows = [];
const dirs = [
  ...fs.readdirSync(path.join(root, "packages")).map((d) => path.join("packages", d)),
  "test",
];
for (const d of dirs) {
  const tap = path.join(root, d, ".test-results", "results.tap");
  if (!fs.existsSync(tap)) continue;
  const text = fs.readFileSync(tap, "utf8");
  const num = (k) => {
    const m = text.match(new RegExp(`^# ${k} (\\d+)$`, "m"));
    return m ? Number(m[1]) : 0;
  };
  const p = num("pass");
  const f = num("fail");
  const s = num("skipped") + num("todo");
  pass += p;
  fail += f;
  skip += s;
  rows.push(`${d.padEnd(34)} ${String(p).padStart(4)} passed ${String(f).padStart(3)} failed ${String(s).padStart(3)} skipped`);
}
console.log("\nSuite summary");
for (const row of rows) console.log(row);
console.log(`total time ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (r.status !== 0 && fail === 0) fail = 1; // a build or runner failure counts as a failure
console.log(`${pass} passed, ${fail} failed, ${skip} skipped`);
process.exit(r.status === 0 && fail === 0 ? 0 : 1);
