#!/usr/bin/env node
// `pnpm lungflow ...`: builds the CLI and what it needs (a turbo cache hit when nothing
// changed), then runs it with the given arguments from the caller's directory. The cache
// check costs about 0.4 s per call: scripts call `node packages/cli/dist/bin.js` directly.
import { spawnSync } from "node:child_process";
import path from "node:path";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const b = spawnSync(
  "pnpm",
  ["exec", "turbo", "run", "build", "--filter=@lungflow/cli...", "--output-logs=errors-only", "--log-prefix=none"],
  { cwd: root, stdio: ["ignore", "ignore", "inherit"], env },
);
if (b.status !== 0) {
  console.error("lungflow: build failed (run `pnpm build` to see why)");
  process.exit(1);
}
const cwd = process.env.INIT_CWD ?? process.cwd();
const r = spawnSync(process.execPath, [path.join(root, "packages/cli/dist/bin.js"), ...process.argv.slice(2)], {
  cwd,
  stdio: "inherit",
  env: process.env,
});
process.exit(r.status ?? 1);
