import assert from "node:assert/strict";
import { describe, test } from "node:test";
import v8 from "node:v8";
import vm from "node:vm";
import { useNativeKernel } from "@lungflow/patch-kernels";
import { gridSampler, lungSampler, uniformSampler } from "@lungflow/patch-store";
import { isLungflowError, type Vec3 } from "@lungflow/volume";
import {
  defaultKernel,
  memorySource,
  type PatchBatch,
  PatchStream,
  patchBatches,
  replayTransforms,
} from "../src/patches/index.ts";
import { chest, maxDiff, refExtract, sleep } from "./patches-helpers.ts";

const patients = [
  { id: "a", ...chest([30, 40, 44], 1), label: 1 as const },
  { id: "b", ...chest([26, 36, 40], 2), label: 0 as const },
  { id: "c", ...chest([34, 38, 36], 3), label: 1 as const },
];
const source = memorySource(
  patients.map((p) => ({
    id: p.id,
    hu: { data: p.hu, shape: p.shape },
    mask: p.mask,
    label: p.label,
  })),
);
const byId = new Map(patients.map((p) => [p.id, p]));
const size = 12;

async function collect(it: AsyncIterable<PatchBatch>): Promise<PatchBatch[]> {
  const out: PatchBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe("patch stream", () => {
  test("contents equal a slow reference extraction replayed with the recorded transforms; 48 symmetries drawn", async () => {
    const batches = await collect(
      patchBatches(source, {
        sampler: lungSampler({ size }),
        batchSize: 16,
        patchesPerPatient: 400,
        augment: { huOffset: [-40, 40] },
        workers: 2,
        log: false,
        seed: 3,
      }),
    );
    const per = size ** 3;
    const syms = new Set<number>();
    let n = 0;
    for (const b of batches) {
      assert.deepEqual(b.shape.slice(1), [size, size, size]);
      for (let i = 0; i < b.shape[0]; i++, n++) {
        const loc = b.locations[i];
        const t = b.transforms[i];
        const sym = t.find((x) => x.name === "symmetry")!;
        syms.add((sym.params as { index: number }).index);
        if (n % 5 !== 0) continue; // replay a fifth of them (the reference is slow)
        const p = byId.get(loc.patientId)!;
        const ref = replayTransforms(refExtract(p.hu, p.shape, loc.origin, loc.size), loc.size, t);
        assert.ok(maxDiff(b.data.subarray(i * per, (i + 1) * per), ref.data) < 1e-5, `patch ${n}`);
      }
    }
    assert.equal(n, 1200);
    assert.equal(syms.size, 48);
    assert.ok([...syms].every((s) => Number.isInteger(s) && s >= 0 && s < 48));
  });

  test("the same seed gives the same batches with 1 and 2 workers; another seed differs", async () => {
    const run = (workers: number, seed: number, epochs = { epochs: 2, startEpoch: 0 }) =>
      collect(
        patchBatches(source, {
          ...epochs,
          sampler: lungSampler({ size: 8 }),
          batchSize: 7,
          patchesPerPatient: 50,
          patientsPerRound: 2,
          shuffleBuffer: 40,
          augment: { huOffset: [-10, 10] },
          workers,
          maxInFlight: 4,
          log: false,
          seed,
        }),
      );
    const [one, two, other] = [await run(1, 11), await run(2, 11), await run(2, 12)];
    // Epoch 1 streamed on its own equals epoch 1 after epoch 0 (whose end sampled epoch 1's
    // first round ahead).
    const alone = await run(1, 11, { epochs: 1, startEpoch: 1 });
    assert.equal(alone.length, one.length / 2);
    for (let i = 0; i < alone.length; i++) {
      const after = one[one.length / 2 + i];
      assert.deepEqual(alone[i].locations, after.locations);
      assert.equal(
        Buffer.compare(Buffer.from(alone[i].data.buffer), Buffer.from(after.data.buffer)),
        0,
      );
    }
    assert.equal(one.length, 2 * Math.ceil(150 / 7));
    assert.equal(two.length, one.length);
    for (let i = 0; i < one.length; i++) {
      assert.deepEqual(two[i].locations, one[i].locations);
      assert.deepEqual(two[i].transforms, one[i].transforms);
      assert.equal(
        Buffer.compare(Buffer.from(two[i].data.buffer), Buffer.from(one[i].data.buffer)),
        0,
        `batch ${i}`,
      );
    }
    assert.notDeepEqual(other[0].locations, one[0].locations);
    // Epochs differ from each other.
    assert.notDeepEqual(one[0].locations, one[one.length / 2].locations);
  });

  test("native and wasm kernels stream the same bytes (tiles beyond the air border included); js within 1e-5", async () => {
    // Grid tiles of 16 with "pad" reach 15 voxels past these volumes: beyond the 8-voxel air
    // border, so the workers also take the slow path for some tiles.
    const run = (kernel: "native" | "wasm" | "js") =>
      collect(
        patchBatches(source, {
          sampler: gridSampler({ size: 16 }),
          batchSize: 5,
          augment: { huOffset: [-30, 30] },
          workers: 2,
          kernel,
          log: false,
          seed: 9,
        }),
      );
    const wasm = await run("wasm");
    const js = await run("js");
    const kinds = defaultKernel() === "native" ? [await run("native")] : [];
    for (const native of kinds) {
      assert.equal(native.length, wasm.length);
      for (let i = 0; i < wasm.length; i++) {
        assert.deepEqual(native[i].locations, wasm[i].locations);
        assert.equal(
          Buffer.compare(Buffer.from(native[i].data.buffer), Buffer.from(wasm[i].data.buffer)),
          0,
          `batch ${i}`,
        );
      }
    }
    const beyond = wasm.some((b) =>
      b.locations.some((l) => {
        const shape = byId.get(l.patientId)!.shape;
        return l.origin.some((o, a) => o + 16 > shape[a] + 8);
      }),
    );
    assert.ok(beyond, "some tiles reach beyond the air border");
    for (let i = 0; i < wasm.length; i++)
      assert.ok(maxDiff(js[i].data, wasm[i].data) < 1e-5, `batch ${i} js vs wasm`);
  });

  test("exact epochs: grid tiles every patient once; lung = patients x patchesPerPatient", async () => {
    const s = await PatchStream.open(source, {
      sampler: gridSampler({ size: 16 }),
      batchSize: 10,
      workers: 1,
      log: false,
    });
    const tiles = patients.reduce(
      (t, p) => t + p.shape.reduce((m, n) => m * Math.ceil(n / 16), 1),
      0,
    );
    assert.equal(s.patchesPerEpoch, tiles);
    const seen = new Set<string>();
    let n = 0;
    for await (const b of s.epoch(0)) {
      for (const l of b.locations) seen.add(`${l.patientId}:${l.origin}`);
      n += b.shape[0];
    }
    await s.close();
    assert.equal(n, tiles);
    assert.equal(seen.size, tiles);
    const u = await PatchStream.open(source, {
      sampler: uniformSampler({ size: 8 }),
      batchSize: 10,
      patchesPerPatient: 21,
      dropRemainder: true,
      workers: 1,
      log: false,
    });
    assert.equal(u.patchesPerEpoch, 60);
    assert.equal(u.batchesPerEpoch, 6);
    let m = 0;
    for await (const b of u.epoch(0)) m += b.shape[0];
    await u.close();
    assert.equal(m, 60);
  });

  test("backpressure: with a slow consumer, tasks started and not consumed never exceed the bound", async () => {
    const s = await PatchStream.open(source, {
      sampler: uniformSampler({ size: 8 }),
      batchSize: 4,
      patchesPerPatient: 40,
      workers: 2,
      maxInFlight: 2,
      queueSize: 3,
      log: false,
    });
    let maxOutstanding = 0;
    let k = 0;
    const it = s.epoch(0);
    for await (const _ of it) {
      await sleep(15); // the training step
      const st = s.stats!;
      maxOutstanding = Math.max(maxOutstanding, st.started - st.delivered);
      assert.ok(st.inFlight <= 2, `in flight ${st.inFlight}`);
      k++;
    }
    const st = s.stats!;
    await s.close();
    assert.equal(k, 30);
    assert.ok(st.maxInFlight <= 2, `max in flight ${st.maxInFlight}`);
    assert.ok(st.maxInFlight >= 1);
    assert.ok(maxOutstanding <= 5, `outstanding ${maxOutstanding}`);
    assert.ok(st.maxBuffered <= 5, `buffered ${st.maxBuffered}`);
  });

  test("heap and buffers stay flat over many batches", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    const s = await PatchStream.open(source, {
      sampler: lungSampler({ size: 16 }),
      batchSize: 8,
      patchesPerPatient: 400,
      workers: 2,
      log: false,
    });
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    let before = 0;
    let k = 0;
    let peak = 0;
    for await (const b of s.epoch(0)) {
      assert.equal(b.data.length, 8 * 16 ** 3);
      if (++k === 20) before = used();
      if (k > 20 && k % 10 === 0) peak = Math.max(peak, used());
    }
    await s.close();
    assert.equal(k, 150);
    // 130 batches of 128 KiB went through; growth must stay far below that (~16 MiB).
    assert.ok(peak - before < 4 * 2 ** 20, `grew ${((peak - before) / 2 ** 20).toFixed(2)} MiB`);
  });

  test("breaking out of the loop stops the workers; abort and worker failures are typed errors", async () => {
    const s = await PatchStream.open(source, {
      sampler: uniformSampler({ size: 8 }),
      batchSize: 4,
      patchesPerPatient: 100,
      workers: 2,
      log: false,
    });
    for await (const b of s.epoch(0)) if (b.index === 2) break;
    const started = s.stats!.started;
    await sleep(50);
    assert.equal(s.stats!.started, started, "no task started after the consumer left");
    await s.close();
    assert.equal(s.pool.threads, 0);

    const ac = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const b of patchBatches(source, {
          sampler: uniformSampler({ size: 8 }),
          batchSize: 4,
          patchesPerPatient: 100,
          workers: 1,
          log: false,
          signal: ac.signal,
        })) {
          if (b.index === 1) ac.abort();
        }
      })(),
    );

    // Arrays that do not match their shape: refused up front, and by the worker.
    assert.throws(
      () => memorySource([{ id: "x", hu: { data: new Int16Array(7), shape: [2, 2, 2] } }]),
      (e) => isLungflowError(e, "PatchStreamError") && e.context.patientId === "x",
    );
    const bad = {
      kind: "memory" as const,
      patients: [
        { id: "y", shape: [20, 20, 20] as Vec3, hu: new Int16Array(new SharedArrayBuffer(16)) },
      ],
    };
    await assert.rejects(
      collect(
        patchBatches(bad, {
          sampler: uniformSampler({ size: 8 }),
          batchSize: 2,
          patchesPerPatient: 2,
          workers: 1,
          log: false,
        }),
      ),
      (e) =>
        isLungflowError(e, "PatchStreamError") &&
        e.code === "WORKER_FAILED" &&
        /patient y/.test(e.message),
    );
  });

  test("shared batch buffers: the same bytes as moved buffers; reused once recycled; none lost when epochs stop early or abort", async () => {
    const opts = {
      sampler: lungSampler({ size: 8 }),
      batchSize: 4,
      patchesPerPatient: 24,
      workers: 2,
      seed: 5,
      // 3 batches started and not consumed + the one in the consumer's hands = 4 buffers.
      maxInFlight: 2,
      queueSize: 1,
      log: false as const,
    };
    const plain = await collect(patchBatches(source, { ...opts, epochs: 2 }));
    assert.ok(plain.every((b) => b.data.buffer instanceof ArrayBuffer));
    const s = await PatchStream.open(source, { ...opts, sharedBuffers: 4 });
    assert.equal(s.freeSharedBuffers, 4);
    const seen = new Set<ArrayBufferLike>();
    let k = 0;
    for (const e of [0, 1])
      for await (const b of s.epoch(e)) {
        assert.ok(b.data.buffer instanceof SharedArrayBuffer, `batch ${k} in shared memory`);
        seen.add(b.data.buffer);
        assert.equal(maxDiff(b.data, plain[k].data), 0, `batch ${k}`);
        assert.deepEqual(b.shape, plain[k].shape);
        k++;
        s.recycle(b.data.buffer); // done with it
      }
    assert.equal(k, plain.length);
    assert.ok(seen.size >= 2 && seen.size <= 4, `${seen.size} buffers`);
    assert.equal(s.recycledBatches, k - seen.size);
    // A batch not handed back stays the consumer's: never refilled, later batches use the others.
    const kept: PatchBatch[] = [];
    for await (const b of s.epoch(2)) {
      if (kept.length < 2 && b.data.buffer instanceof SharedArrayBuffer) kept.push(b);
      else s.recycle(b.data.buffer);
    }
    const copies = kept.map((b) => Float32Array.from(b.data));
    // Epochs stopped early (batches finished but never consumed) and an aborted one.
    for (const e of [3, 4, 5]) {
      for await (const b of s.epoch(e)) {
        s.recycle(b.data.buffer);
        break;
      }
    }
    const ac = new AbortController();
    await assert.rejects(async () => {
      for await (const b of s.epoch(6, ac.signal)) {
        s.recycle(b.data.buffer);
        ac.abort(new Error("stop"));
      }
    });
    // The workers finish what they hold (tasks dropped by the abort give their buffers back
    // then); a loaded machine may take a while.
    for (let t = 0; t < 100 && s.freeSharedBuffers < 4 - kept.length; t++) await sleep(50);
    await sleep(50); // and nothing more comes back than should
    for (const [i, b] of kept.entries())
      assert.equal(maxDiff(b.data, copies[i]), 0, "kept batch untouched");
    assert.equal(kept.length, 2);
    assert.equal(s.freeSharedBuffers, 4 - kept.length);
    for (const b of kept) s.recycle(b.data.buffer);
    s.recycle(kept[0].data.buffer); // twice: no effect
    assert.equal(s.freeSharedBuffers, 4);
    await s.close();
  });

  test("bad options are clear errors", async () => {
    await assert.rejects(
      PatchStream.open(source, {
        sampler: lungSampler({ size: 8 }),
        batchSize: 4,
        sharedBuffers: -1,
        log: false,
      }),
      (e) => isLungflowError(e, "PatchStreamError") && e.code === "BAD_OPTION",
    );
    await assert.rejects(
      PatchStream.open(source, {
        sampler: lungSampler({ size: [8, 8, 4] as Vec3 }),
        batchSize: 4,
        log: false,
      }),
      /cubic/,
    );
    await assert.rejects(
      PatchStream.open(source, { sampler: lungSampler({ size: 8 }), batchSize: 0, log: false }),
      /batchSize/,
    );
    await assert.rejects(
      PatchStream.open(source, {
        sampler: lungSampler({ size: 8 }),
        batchSize: 2,
        ids: ["zz"],
        log: false,
      }),
      (e) => isLungflowError(e, "PatchStreamError") && e.code === "UNKNOWN_PATIENT",
    );
    // Without the native addon, kernel "native" is refused and the default falls back to wasm.
    const had = defaultKernel() === "native";
    useNativeKernel(false);
    try {
      assert.equal(defaultKernel(), "wasm");
      await assert.rejects(
        PatchStream.open(source, {
          sampler: lungSampler({ size: 8 }),
          batchSize: 2,
          kernel: "native",
          log: false,
        }),
        (e) =>
          isLungflowError(e, "PatchStreamError") &&
          e.code === "BAD_OPTION" &&
          /native/.test(e.message),
      );
    } finally {
      useNativeKernel(had);
    }
  });
});
