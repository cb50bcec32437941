#!/usr/bin/env node
// Runs one package's tests with node's test runner (TypeScript through tsx).
// Spec output goes to the terminal; a TAP copy goes to .test-results/results.tap so that
// tools/test-all.mjs can add up the whole suite (turbo restores the file on a cache hit).
// Usage (from a package dir): node ../../tools/run-tests.mjs [--dir test] [file-substring ...]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const argv = process.argv.slice(2);
let testDir = "test";
const di = argv.indexOf("--dir");
if (di >= 0) {
  testDir = argv[di + 1];
  argv.splice(di, 2);
}
const filters = argv;
const files = [];
function walk(dir) {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.test\.(ts|mts|js|mjs)$/.test(e.name)) files.push(p);
  }
}
walk(testDir);
files.sort();
const selected = filters.length ? files.filter((f) => filters.some((s) => f.includes(s))) : files;
fs.mkdirSync(".test-results", { recursive: true });
const tap = path.join(".test-results", "results.tap");
// No stale summary from an earlier run: a runner that dies leaves no (or a cut) TAP file.
fs.rmSync(tap, { force: true });
if (selected.length === 0) {
  fs.writeFileSync(tap, "# tests 0\n# pass 0\n# fail 0\n");
  console.log("no test files");
  process.exit(0);
}
const args = [
  "--import",
  "tsx",
  "--test",
  "--test-concurrency=1",
  `--test-timeout=${process.env.LUNGFLOW_TEST_TIMEOUT_MS ?? 600000}`,
  "--test-reporter=spec",
  "--test-reporter-destination=stdout",
  "--test-reporter=tap",
  `--test-reporter-destination=${tap}`,
  ...selected,
];
const r = spawnSync(process.execPath, args, {
  stdio: "inherit",
  env: { ...process.env, NODE_ENV: "test" },
});
process.exit(r.status ?? 1);
