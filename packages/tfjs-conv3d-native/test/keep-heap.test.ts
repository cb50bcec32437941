import assert from "node:assert/strict";
import { test } from "node:test";
import { loadAddon } from "../src/load-addon.ts";

test("keepHeap sets glibc's malloc thresholds (true on glibc) and rejects bad arguments", () => {
  const loaded = loadAddon();
  assert.ok("addon" in loaded, "error" in loaded ? loaded.error : "");
  const keepHeap = loaded.addon.keepHeap;
  assert.ok(keepHeap, "the addon has keepHeap");
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } })
    ?.header;
  const glibc = typeof header?.glibcVersionRuntime === "string";
  assert.equal(keepHeap(32 * 2 ** 20, 2 ** 30), glibc);
  assert.throws(() => keepHeap(-1, 0));
  assert.throws(() => (keepHeap as unknown as (a: string) => boolean)("x"));
});
