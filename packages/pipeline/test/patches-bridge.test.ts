import assert from "node:assert/strict";
import { test } from "node:test";
import { createRng } from "@lungflow/volume";
import { pullBridge } from "../src/patches/pull-bridge.ts";
import { sleep } from "./patches-helpers.ts";

async function* range(n: number, seen: number[]) {
  for (let i = 0; i < n; i++) {
    seen.push(i);
    yield i;
  }
}

test("pullBridge: results in plan order whatever the completion order; bounds hold", async () => {
  const rng = createRng(1);
  const planned: number[] = [];
  let outstandingMax = 0;
  const it = pullBridge(
    range(60, planned),
    async (x) => {
      await sleep(rng.int(12)); // tasks finish out of order
      return x * 10;
    },
    { concurrency: 3, capacity: 5 },
  );
  const got: number[] = [];
  for await (const v of it) {
    got.push(v);
    outstandingMax = Math.max(outstandingMax, it.stats.started - it.stats.delivered);
    assert.ok(planned.length - got.length <= 5 + 1, `planned ahead ${planned.length - got.length}`);
    if (got.length % 7 === 0) await sleep(20); // a slow consumer now and then
  }
  assert.deepEqual(
    got,
    Array.from({ length: 60 }, (_, i) => i * 10),
  );
  assert.ok(
    it.stats.maxInFlight <= 3 && it.stats.maxInFlight >= 2,
    `max in flight ${it.stats.maxInFlight}`,
  );
  assert.ok(outstandingMax <= 5);
});

test("pullBridge: nothing more is planned or run after the consumer returns; errors surface in order", async () => {
  const planned: number[] = [];
  let ran = 0;
  const it = pullBridge(
    range(100, planned),
    async (x) => {
      ran++;
      await sleep(1);
      return x;
    },
    { concurrency: 2, capacity: 4 },
  );
  for await (const v of it) if (v === 3) break;
  const [p, r] = [planned.length, ran];
  await sleep(30);
  assert.equal(planned.length, p);
  assert.equal(ran, r);
  assert.ok(p <= 4 + 4 + 1);

  const got: number[] = [];
  await assert.rejects(
    (async () => {
      for await (const v of pullBridge(
        range(20, []),
        async (x) => {
          await sleep(x === 6 ? 5 : 1);
          if (x === 6) throw new Error("task 6 failed");
          return x;
        },
        { concurrency: 3, capacity: 3 },
      ))
        got.push(v);
    })(),
    /task 6 failed/,
  );
  assert.ok(got.length <= 6);
  assert.deepEqual(
    got,
    got.map((_, i) => i),
  );
});

test("pullBridge: an abort signal stops it with the signal's reason and aborts running tasks", async () => {
  const ac = new AbortController();
  let aborted = 0;
  const it = pullBridge(
    range(100, []),
    (x, _i, signal) =>
      new Promise<number>((resolve) => {
        const t = setTimeout(() => resolve(x), 5);
        signal.addEventListener("abort", () => {
          aborted++;
          clearTimeout(t);
        });
      }),
    { concurrency: 2, capacity: 4, signal: ac.signal },
  );
  await assert.rejects(
    (async () => {
      for await (const v of it) if (v === 2) ac.abort(new Error("stop now"));
    })(),
    /stop now/,
  );
  assert.ok(aborted >= 1);
});

test("pullBridge: every finished result is delivered or handed to onDiscard, once (return, error, abort)", async () => {
  const rng = createRng(7);
  for (const how of ["return", "error", "abort"] as const) {
    const finished = new Set<number>();
    const delivered: number[] = [];
    const discarded: number[] = [];
    const ac = new AbortController();
    const it = pullBridge(
      range(100, []),
      // Tasks ignore the bridge's signal and finish late: after the stop, too.
      async (x) => {
        await sleep(1 + rng.int(15));
        if (how === "error" && x === 9) throw new Error("task 9 failed");
        finished.add(x);
        return x;
      },
      {
        concurrency: 3,
        capacity: 6,
        signal: ac.signal,
        onDiscard: (x) => discarded.push(x),
      },
    );
    await (async () => {
      for await (const v of it) {
        delivered.push(v);
        if (v === 5 && how === "return") break;
        if (v === 5 && how === "abort") ac.abort(new Error("stop"));
      }
    })().catch(() => {});
    // The tasks still running finish (a loaded machine may take a while).
    for (let t = 0; t < 200 && it.stats.inFlight > 0; t++) await sleep(25);
    assert.ok(discarded.length > 0, `${how}: something was discarded`);
    assert.deepEqual(
      [...delivered, ...discarded].sort((a, b) => a - b),
      [...finished].sort((a, b) => a - b),
      `${how}: delivered + discarded = finished`,
    );
    assert.equal(new Set([...delivered, ...discarded]).size, finished.size, `${how}: once each`);
  }
});
