// The addon's thread pool under churn: resizing right before a parallel call once
// deadlocked (a new worker could miss the first job). Each call must finish and agree.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadAddon } from "../src/load-addon.ts";
import { randArray } from "./helpers.ts";

test("rapid thread-count changes between calls neither hang nor change results", {
  timeout: 60_000,
}, () => {
  const r = loadAddon();
  assert.ok("addon" in r, "error" in r ? r.error : "");
  const a = r.addon;
  // x [1, 6, 6, 6, 4], w [3, 3, 3, 4, 8], stride 1, pad 1
  const geom = Int32Array.from([1, 6, 6, 6, 4, 3, 3, 3, 6, 6, 6, 8, 1, 1, 1, 1, 1, 1]);
  const x = randArray(6 * 6 * 6 * 4, 1);
  const w = randArray(27 * 4 * 8, 2);
  const dy = randArray(6 * 6 * 6 * 8, 3);
  const run = () => {
    const y = new Float32Array(dy.length);
    const dx = new Float32Array(x.length);
    const dw = new Float32Array(w.length);
    a.forward(x, w, y, geom);
    a.backpropInput(dy, w, dx, geom);
    a.backpropFilter(x, dy, dw, geom);
    return [y, dx, dw];
  };
  a.setThreads(1);
  const ref = run();
  for (let i = 0; i < 300; i++) {
    a.setThreads(1 + (i % 3));
    const got = run();
    for (let k = 0; k < 3; k++) assert.deepEqual(got[k], ref[k]);
  }
  a.setThreads(2);
});

test("the addon rejects arrays that do not match the geometry", () => {
  const r = loadAddon();
  assert.ok("addon" in r);
  const geom = Int32Array.from([1, 4, 4, 4, 2, 3, 3, 3, 4, 4, 4, 3, 1, 1, 1, 1, 1, 1]);
  const x = new Float32Array(4 * 4 * 4 * 2);
  const w = new Float32Array(27 * 2 * 3);
  assert.throws(
    () => r.addon.forward(x, w, new Float32Array(10), geom),
    /array lengths do not match/,
  );
  assert.throws(
    () => r.addon.forward(x, w, new Float32Array(4 * 4 * 4 * 3), new Int32Array(3)),
    /invalid geometry/,
  );
  assert.throws(
    () => r.addon.forward(new Float64Array(128) as unknown as Float32Array, w, x, geom),
    /Float32Array/,
  );
});
