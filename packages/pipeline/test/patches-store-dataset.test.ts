import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { balancedSampler, lungSampler, openStore } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { isLungflowError } from "@lungflow/volume";
import {
  memorySource,
  type PatchBatch,
  patchBatches,
  patchDataset,
  replayTransforms,
  volumeDataset,
} from "../src/patches/index.ts";
import { chest, maxDiff, writeChestStore } from "./patches-helpers.ts";

const patients = [
  { id: "a", ...chest([30, 40, 44], 1), label: 1 as const },
  { id: "b", ...chest([26, 36, 40], 2), label: 0 as const },
  { id: "c", ...chest([34, 38, 36], 3), label: 1 as const },
  { id: "d", ...chest([28, 34, 38], 4), label: 0 as const },
];
const mem = memorySource(
  patients.map((p) => ({
    id: p.id,
    hu: { data: p.hu, shape: p.shape },
    mask: p.mask,
    label: p.label,
  })),
);
let dir = "";

async function collect(it: AsyncIterable<PatchBatch>): Promise<PatchBatch[]> {
  const out: PatchBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

before(async () => {
  dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "patches-")), "s.zarr");
  await writeChestStore(dir, patients, { chunk: 16 });
  const store = await openStore(dir);
  await store.makeSplit({ seed: 1, validationFraction: 0.5 });
  await initTf({ quiet: true });
});

after(() => {
  fs.rmSync(path.dirname(dir), { recursive: true, force: true });
});

describe("patches from a store", () => {
  test("workers reading the store give exactly the batches of the same volumes in memory", async () => {
    const opts = {
      sampler: lungSampler({ size: 16 }),
      batchSize: 8,
      patchesPerPatient: 20,
      workers: 2,
      log: false as const,
      seed: 5,
      augment: { huOffset: [-30, 30] as [number, number] },
    };
    const [fromStore, fromMemory] = [
      await collect(patchBatches(dir, opts)),
      await collect(patchBatches(mem, opts)),
    ];
    assert.equal(fromStore.length, 10);
    for (let i = 0; i < fromStore.length; i++) {
      assert.deepEqual(fromStore[i].locations, fromMemory[i].locations);
      assert.equal(
        Buffer.compare(
          Buffer.from(fromStore[i].data.buffer),
          Buffer.from(fromMemory[i].data.buffer),
        ),
        0,
      );
    }
  });

  test("the balanced sampler reads mask and HU in the workers: the bright share is what was asked", async () => {
    const byId = new Map(patients.map((p) => [p.id, p]));
    let bright = 0;
    let n = 0;
    for await (const b of patchBatches(dir, {
      sampler: balancedSampler({ size: 8, brightFraction: 0.9, threshold: -400 }),
      batchSize: 16,
      patchesPerPatient: 100,
      workers: 2,
      log: false,
    })) {
      for (const l of b.locations) {
        const p = byId.get(l.patientId)!;
        const [z, y, x] = l.origin.map((o) => o + 4);
        const i = (z * p.shape[1] + y) * p.shape[2] + x;
        assert.equal(p.mask[i], 1);
        if (p.hu[i] > -400) bright++;
        n++;
      }
    }
    assert.equal(n, 400);
    assert.ok(bright / n > 0.8, `bright share ${bright / n}`);
  });

  test("a split selects its patients", async () => {
    const split = (await openStore(dir)).split!;
    const ids = new Set<string>();
    for await (const b of patchBatches(dir, {
      sampler: lungSampler({ size: 8 }),
      batchSize: 4,
      patchesPerPatient: 4,
      split: "validation",
      workers: 1,
      log: false,
    })) {
      for (const l of b.locations) ids.add(l.patientId);
    }
    assert.deepEqual([...ids].sort(), [...split.validation].sort());
  });
});

describe("tf.data bridge", () => {
  test("patchDataset: xs [B,d,d,d,1], ys [B,d^3] = flattened xs; tensors flat over epochs; close stops the workers", async () => {
    const { dataset, close, stream } = await patchDataset(mem, {
      sampler: lungSampler({ size: 8 }),
      batchSize: 6,
      patchesPerPatient: 30,
      workers: 2,
      log: false,
      prefetch: 2,
    });
    const start = tf.memory().numTensors;
    let counts: number[] = [];
    for (let epoch = 0; epoch < 2; epoch++) {
      let n = 0;
      const it = await dataset.iterator();
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        const { xs, ys } = r.value;
        assert.deepEqual(xs.shape, [6, 8, 8, 8, 1]);
        assert.deepEqual(ys.shape, [6, 512]);
        if (n === 0) assert.ok(maxDiff(xs.dataSync(), ys.dataSync()) === 0);
        tf.dispose([xs, ys]);
        n++;
        counts.push(tf.memory().numTensors - start);
      }
      assert.equal(n, stream.batchesPerEpoch);
    }
    // Only the prefetched elements are alive at any time, never more.
    assert.ok(Math.max(...counts) <= 2 * (2 + 1), `tensors alive ${Math.max(...counts)}`);
    counts = [];
    await close();
    assert.equal(stream.pool.threads, 0);
    assert.ok(tf.memory().numTensors - start <= 2 * 2);
  });

  test("recycled batch buffers never overwrite tensors still alive (same data as without recycling)", async () => {
    const common = {
      sampler: lungSampler({ size: 8 }),
      batchSize: 5,
      patchesPerPatient: 40,
      workers: 2,
      log: false as const,
      seed: 9,
    };
    const collectAll = async (recycle: boolean, keepEvery: number) => {
      const { dataset, close, stream } = await patchDataset(mem, { ...common, recycle });
      const it = await dataset.iterator();
      const kept: { t: tf.Tensor; copy: Float32Array }[] = [];
      const all: Float32Array[] = [];
      for (let k = 0; ; k++) {
        const r = await it.next();
        if (r.done) break;
        const copy = Float32Array.from(r.value.xs.dataSync());
        all.push(copy);
        if (k % keepEvery === 0) {
          kept.push({ t: r.value.xs, copy });
          r.value.ys.dispose();
        } else tf.dispose(r.value);
      }
      for (const k of kept)
        assert.equal(maxDiff(k.t.dataSync(), k.copy), 0, "a kept tensor was overwritten");
      tf.dispose(kept.map((k) => k.t));
      await close();
      if (recycle)
        assert.ok(
          stream.recycledBatches >= all.length / 3,
          `recycled ${stream.recycledBatches} of ${all.length}`,
        );
      else assert.equal(stream.recycledBatches, 0);
      return all;
    };
    const plain = await collectAll(false, 1000);
    const recycled = await collectAll(true, 3);
    assert.equal(recycled.length, plain.length);
    for (let i = 0; i < plain.length; i++)
      assert.equal(maxDiff(recycled[i], plain[i]), 0, `batch ${i}`);

    // Shared buffers for every batch that can be out: queue (2 x 2 workers + 4) + prefetch + 2;
    // a consumer that disposes each element gets every batch in one of them.
    for (const prefetch of [2, 6]) {
      const { dataset, close, stream } = await patchDataset(mem, { ...common, prefetch });
      assert.equal(stream.freeSharedBuffers, 8 + prefetch + 2);
      let shared = 0;
      let n = 0;
      await dataset.forEachAsync((e) => {
        n++;
        if (e.xs.dataSync().buffer instanceof SharedArrayBuffer) shared++;
        tf.dispose(e);
      });
      await close();
      assert.equal(shared, n, `prefetch ${prefetch}: ${shared} of ${n} batches shared`);
    }
    const off = await patchDataset(mem, { ...common, recycle: false });
    assert.equal(off.stream.freeSharedBuffers, 0);
    await off.close();
  });

  test("volumeDataset: one whole augmented volume and its label per element, replayable", async () => {
    const { dataset, close, stream } = await volumeDataset(mem, {
      workers: 1,
      log: false,
      seed: 3,
    });
    const start = tf.memory().numTensors;
    const seen: string[] = [];
    const it = await dataset.iterator();
    for (;;) {
      const r = await it.next();
      if (r.done) break;
      const { xs, ys } = r.value;
      assert.equal(xs.shape[0], 1);
      assert.equal(xs.shape[4], 1);
      const label = ys.dataSync()[0];
      const p = patients.find(
        (q) =>
          q.label === label && [...q.shape].sort().join() === xs.shape.slice(1, 4).sort().join(),
      );
      assert.ok(p, `a patient with label ${label} and shape ${xs.shape}`);
      seen.push(p.id);
      tf.dispose([xs, ys]);
    }
    assert.deepEqual(seen.sort(), ["a", "b", "c", "d"]);
    assert.ok(tf.memory().numTensors - start <= 1);
    await close();
    // The same stream without tf: contents equal the replay of the recorded transforms.
    const { volumeBatches } = await import("../src/patches/index.ts");
    for await (const v of volumeBatches(mem, { workers: 1, log: false, seed: 3 })) {
      const p = patients.find((q) => q.id === v.patientId)!;
      const ref = replayTransforms(p.hu, p.shape, v.transforms);
      assert.deepEqual(ref.shape, v.shape);
      assert.ok(maxDiff(ref.data, v.data) < 1e-5);
    }
    assert.equal(stream.pool.threads, 0);
  });

  test("unlabelled volumes are refused for training, allowed with requireLabels: false", async () => {
    const unl = memorySource([{ id: "u", hu: { data: patients[0].hu, shape: patients[0].shape } }]);
    await assert.rejects(
      volumeDataset(unl, { log: false }),
      (e) => isLungflowError(e, "PatchStreamError") && e.code === "NO_LABEL",
    );
    const { dataset, close } = await volumeDataset(unl, {
      log: false,
      requireLabels: false,
      augment: false,
      workers: 1,
    });
    const it = await dataset.iterator();
    const r = await it.next();
    assert.deepEqual(r.value.xs.shape, [1, ...patients[0].shape, 1]);
    tf.dispose(r.value);
    await close();
  });

  test("the lung region needs a store: a memory source with region: true fails naming the patient", async () => {
    const { dataset, close } = await volumeDataset(mem, {
      log: false,
      region: true,
      augment: false,
      workers: 1,
    });
    const it = await dataset.iterator();
    await assert.rejects(
      it.next(),
      (e) =>
        isLungflowError(e, "PatchStreamError") &&
        e.code === "WORKER_FAILED" &&
        /the lung region needs a store/.test(e.message) &&
        /patient [abcd]/.test(e.message),
    );
    await close();
  });
});
