import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { main } from "../src/program.ts";

const dir = mkdtempSync(path.join(tmpdir(), "cli-view-"));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const errors: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  process.exitCode = undefined;
  try {
    const code = await main(["node", "lungflow", ...args]);
    return { code, err: errors.join("\n") };
  } finally {
    console.error = orig;
    process.exitCode = undefined;
  }
}

test("view: a missing store is a STORE_NOT_FOUND error before anything listens", async () => {
  const r = await run(["view", "--store", path.join(dir, "none.zarr"), "--port", "0"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /lungflow view: STORE_NOT_FOUND/);
});

test("view: a port outside 0..65535 is a usage error (exit 1, no stack)", async () => {
  const r = await run(["view", "--store", dir, "--port", "70000"]);
  assert.equal(r.code, 1);
  assert.match(r.err, /^lungflow view: --port: expected an integer in 0\.\.65535, got "70000"/);
});
