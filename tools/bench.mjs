#!/usr/bin/env node
// `pnpm bench <name> [--quick] [...]` runs tools/bench/<name>.ts after building what it needs.
// The benchmark's last output line is one JSON object {"bench", "results": [...]}.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.dirname(path.dirname(new URL(import.meta.url).pathname));
const [name, ...rest] = process.argv.slice(2);
const benches = fs.readdirSync(path.join(root, "tools/bench")).filter((f) => /^[a-z0-9-]+\.ts$/.test(f) && f !== "lib.ts").map((f) => f.slice(0, -3));
if (!name || !benches.includes(name)) {
  console.error(`usage: pnpm bench <name> [--quick]\nbenchmarks: ${benches.join(", ")}`);
  process.exit(2);
}
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };
const b = spawnSync("pnpm", ["exec", "turbo", "run", "build", "--filter=@lungflow/bench...", "--output-logs=errors-only", "--log-prefix=none"], { cwd: root, stdio: ["ignore", "ignore", "inherit"], env });
if (b.status !== 0) process.exit(1);
const r = spawnSync(process.execPath, ["--import", "tsx", path.join(root, "tools/bench", `${name}.ts`), ...rest], { cwd: process.env.INIT_CWD ?? root, stdio: "inherit", env });
process.exit(r.status ?? 1);
