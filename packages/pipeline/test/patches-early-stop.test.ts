import assert from "node:assert/strict";
import fs from "node:fs";
import { before, describe, test } from "node:test";
import { lungSampler } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { createRng, isLungflowError } from "@lungflow/volume";
import { Piscina } from "piscina";
import { resolveAugment } from "../src/patches/augment.ts";
import { memorySource, PatchStream, patchDataset } from "../src/patches/index.ts";
import { PatchPool } from "../src/patches/pool.ts";
import { sourceSpec } from "../src/patches/source.ts";
import type { VolumeTask } from "../src/patches/worker.ts";
import { chest, sleep } from "./patches-helpers.ts";

// Every "error" event any Piscina pool emits (such as "Unexpected message from Worker", a
// reply arriving for a task the pool had forgotten): the streams' own listeners would
// otherwise hide them.
const poolErrors: string[] = [];
const emit = Piscina.prototype.emit;
Piscina.prototype.emit = function (this: Piscina, event: string | symbol, ...args: unknown[]) {
  if (event === "error") poolErrors.push(String((args[0] as Error)?.message ?? args[0]));
  return emit.call(this, event, ...args);
} as typeof emit;

/** OS threads of this process (Linux), or undefined where /proc is not there. */
function osThreads(): number | undefined {
  if (!fs.existsSync("/proc/self/status")) return undefined;
  return Number(/Threads:\s+(\d+)/.exec(fs.readFileSync("/proc/self/status", "utf8"))?.[1]);
}

/** What is left of worker threads: their OS threads and their message ports. */
function workerHandles(): { threads: number | undefined; ports: number } {
  const ports = process
    .getActiveResourcesInfo()
    .filter((r) => r === "MessagePort" || r === "Worker").length;
  return { threads: osThreads(), ports };
}

const patients = [
  { id: "a", ...chest([30, 40, 44], 1) },
  { id: "b", ...chest([26, 36, 40], 2) },
  { id: "c", ...chest([34, 38, 36], 3) },
];
const source = memorySource(
  patients.map((p) => ({ id: p.id, hu: { data: p.hu, shape: p.shape }, mask: p.mask })),
);
const SHARED = 6;
const opts = {
  sampler: lungSampler({ size: 12 }),
  batchSize: 4,
  patchesPerPatient: 24,
  patientsPerRound: 2,
  sharedBuffers: SHARED,
  log: false as const,
};

let idle: { threads: number | undefined; ports: number };
before(async () => {
  await initTf({ quiet: true });
  // Threads some runtimes start lazily on first use are there before the baseline is taken.
  const s = await PatchStream.open(source, { ...opts, workers: 1 });
  await s.epoch(0).next();
  await s.close();
  idle = workerHandles();
});

/** Waits (at most 10 s) until the pool has no task in a worker. */
async function settled(s: PatchStream): Promise<void> {
  for (let t = 0; t < 2000 && s.pool.outstanding > 0; t++) await sleep(5);
  assert.equal(s.pool.outstanding, 0, "the workers replied to every task");
}

type Stop = "break" | "throw" | "abort";

/**
 * Streams epoch `e` and stops it after `at` batches the way `how` says (at 0, before the
 * first: an abort, or the consumer returning). Returns the batches seen.
 */
async function stopEpoch(s: PatchStream, e: number, at: number, how: Stop): Promise<number> {
  const ac = new AbortController();
  const it = s.epoch(e, ac.signal);
  const stop = new Error("stopped by the step");
  let k = 0;
  let thrown: unknown;
  try {
    if (at === 0 && how === "abort") ac.abort(stop);
    else if (at === 0) await it.return?.();
    for await (const b of it) {
      k++;
      s.recycle(b.data.buffer);
      if (k < at) continue;
      if (how === "break") break;
      if (how === "throw") throw stop;
      ac.abort(stop);
    }
  } catch (err) {
    thrown = err;
  }
  const ends = how === "abort" || (how === "throw" && at > 0) ? stop : undefined;
  assert.equal(
    thrown,
    ends,
    `${how} at ${at}: the loop ends with the step's error or the signal's reason`,
  );
  return k;
}

describe("early stop of an epoch", () => {
  for (const workers of [1, 2]) {
    test(`${workers} worker(s): 50 epochs stopped at seeded random points (break, error in the step, abort), 5 closes with tasks in flight: no pool error, every shared buffer back, no thread left`, async () => {
      poolErrors.length = 0;
      const rng = createRng(1000 + workers);
      const ways: Stop[] = ["break", "throw", "abort"];
      let stops = 0;
      for (let round = 0; round < 5; round++) {
        const s = await PatchStream.open(source, { ...opts, workers, seed: round });
        assert.equal(s.freeSharedBuffers, SHARED);
        for (let e = 0; e < 10; e++) {
          const at = rng.int(s.batchesPerEpoch);
          const how = ways[rng.int(3)];
          const got = await stopEpoch(s, e, at, how);
          assert.equal(got, at, "batches seen");
          stops++;
          // The last epoch of each stream is closed at once, its tasks still in the workers.
          if (e === 9) break;
          await settled(s);
          assert.equal(s.freeSharedBuffers, SHARED, `epoch ${e} (${how} at ${at}): buffers back`);
        }
        await s.close();
        assert.equal(s.pool.outstanding, 0);
        assert.equal(s.freeSharedBuffers, SHARED, "every shared buffer back after close()");
        assert.equal(s.pool.threads, 0);
      }
      assert.equal(stops, 50);
      // Replies posted before close() would be delivered after it (Piscina's late-reply error).
      await sleep(50);
      assert.deepEqual(poolErrors, []);
      assert.deepEqual(workerHandles(), idle, "no worker thread or port left");
    });
  }

  test("a task dropped before its worker starts it is cancelled there; the worker stays", async (t) => {
    const pool = new PatchPool(1);
    t.after(() => pool.destroy());
    const task = (id: string): VolumeTask => ({
      kind: "volume",
      source: sourceSpec(source, [id]),
      patientId: id,
      seed: 1,
      augment: resolveAugment(),
      cacheBytes: 2 ** 24,
    });
    assert.ok((await pool.run<Float32Array>(task("a"))) instanceof Float32Array);
    // One worker holds two tasks at a time: the third waits in Piscina's queue, and the
    // abort reaches the ring before the worker is free to take it.
    const ac = new AbortController();
    const dropped: Promise<unknown>[] = [];
    const runs = ["a", "b", "c"].map((id) => {
      let resolve: (r: unknown) => void = () => {};
      dropped.push(new Promise((r) => (resolve = r)));
      return pool.run<Float32Array>(task(id), ac.signal, { id }, undefined, (r) => resolve(r));
    });
    ac.abort(new Error("stop"));
    for (const r of runs)
      await assert.rejects(
        r,
        (e) => isLungflowError(e, "PatchStreamError") && e.code === "ABORTED",
      );
    const results = await Promise.all(dropped);
    assert.equal(results[2], undefined, "the queued task stopped in its worker without a result");
    assert.equal(pool.outstanding, 0);
    assert.equal(pool.threads, 1, "the worker was not terminated");
    assert.ok((await pool.run<Float32Array>(task("c"))) instanceof Float32Array);
    await pool.destroy();
    assert.equal(pool.threads, 0);
  });

  test("patchDataset: epochs stopped early release the elements tf.data prefetched (tensors and buffers); no pool error, no thread left", async () => {
    poolErrors.length = 0;
    const rng = createRng(7);
    const start = tf.memory().numTensors;
    const { dataset, close, stream } = await patchDataset(source, {
      ...opts,
      sharedBuffers: undefined,
      workers: 2,
      prefetch: 3,
    });
    const total = stream.freeSharedBuffers;
    for (let e = 0; e < 12; e++) {
      const take = rng.int(stream.batchesPerEpoch);
      const it = await dataset.iterator();
      for (let k = 0; k < take; k++) {
        const r = await it.next();
        assert.equal(r.done, false);
        tf.dispose([r.value.xs, r.value.ys]);
      }
    }
    await close();
    assert.equal(tf.memory().numTensors, start, "no tensor left behind");
    assert.equal(stream.freeSharedBuffers, total, "every shared buffer back");
    assert.equal(stream.pool.threads, 0);
    await sleep(50);
    assert.deepEqual(poolErrors, []);
    assert.deepEqual(workerHandles(), idle, "no worker thread or port left");
  });
});
