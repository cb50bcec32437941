/**
 * Patch streaming benchmark: augmented 32^3 patches per second from a patch store, reaching
 * the training loop as tensors (`patchDataset`: sampler -> Piscina workers (cut, one of 48
 * symmetries, HU offset, normalisation) -> pull bridge -> tf.data -> `{xs, ys}`), with 1 and
 * 2 workers. The store holds phantom chests (1 mm, cropped to the lung box). Reported:
 * - `patches_per_s`: wall clock over whole steady epochs (volumes already decoded in the
 *   workers, warm-up epochs streamed first; epoch boundaries included, as `fitDataset`
 *   sees them),
 * - `patches_per_cpu_s`: patches per second of CPU of the whole process (every thread: the
 *   per-core rate, robust to other load on the machine),
 * - `worker_us_per_patch` / `main_us_per_patch`: CPU of the worker threads and of the main
 *   thread (training loop side) per patch, read from /proc per thread,
 * - the first epoch (decoding the volumes from the store included),
 * - memory copy bandwidth with 1 and 2 threads: the ceiling of a memory-bound kernel's
 *   scaling on this machine,
 * - the kernel alone on one thread (cut + symmetry + normalise into rotating 4 MB batch
 *   buffers, random origins and symmetries): on the bench's phantom lungs, and on a lung
 *   volume of realistic size (250x200x300 at 1 mm, 30 MB, larger than the caches), native
 *   (C++ addon), wasm SIMD and plain JS, as patches per CPU-second.
 * Usage: pnpm bench patches [--quick]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { loadavg } from "node:os";
import * as path from "node:path";
import { Worker } from "node:worker_threads";
import {
  augmentInto,
  augmentIntoWasm,
  augmentManyNative,
  kernelNorm,
  nativeKernel,
  type PatchJob,
  wasmVolume,
} from "@lungflow/patch-kernels";
import { lungSampler, openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { makePhantom } from "@lungflow/phantom";
import { defaultKernel, patchDataset } from "@lungflow/pipeline";
import { initTf, tf } from "@lungflow/tf-runtime";
import { bboxOfMask, createRng, crop, makeVolume, type Vec3 } from "@lungflow/volume";
import { type BenchResult, quick, report } from "./lib.ts";

const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};
const D = 32;
const B = 32;
const nPatients = quick ? 2 : 4;
const matrix = quick ? 160 : 256;
const slices = quick ? 100 : 200;
// One epoch: 128 batches (quick) or 512.
const perPatient = (quick ? 4096 : 16384) / nPatients;
// Epochs streamed after the first before measuring (V8 keeps compiling hot paths that run
// once per batch on its background threads for ~50 epochs of 128 batches: ~4 us of CPU a
// patch after 6 epochs, ~2 after 40), then the epochs measured.
const warmupEpochs = quick ? 24 : 8;
const steadyEpochs = quick ? 12 : 5;
const results: BenchResult[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-patches-"));
const storePath = path.join(dir, "s.zarr");
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** CPU seconds of each thread of this process, by thread id (Linux; empty elsewhere). */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  try {
    for (const tid of fs.readdirSync("/proc/self/task")) {
      const st = fs.readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
      out.set(tid, (Number(f[11]) + Number(f[12])) / 100);
    }
  } catch {}
  return out;
}
const mainTid = String(process.pid);

try {
  await initTf({ quiet: true });
  const store = await openStore(storePath, { create: true, params: PARAMS });
  let voxels = 0;
  for (let p = 0; p < nPatients; p++) {
    const ph = makePhantom({ seed: p + 1, matrix, slices, pixelSpacing: 1, sliceSpacing: 1 });
    const hu = makeVolume(ph.hu, ph.shape);
    const mask = makeVolume(ph.lungMask, ph.shape);
    const box = bboxOfMask(mask)!;
    const h = crop(hu, box);
    voxels += h.data.length;
    await store.writePatient({
      id: `p${p}`,
      hu: h,
      mask: crop(mask, box),
      params: PARAMS,
      source: {
        bbox: box as [[number, number], [number, number], [number, number]],
        sourceSpacing: [1, 1, 1],
        sourceShape: ph.shape,
        otsuThreshold: -400,
        seriesInstanceUid: `1.2.3.${p}`,
        fileCount: ph.shape[0],
        sourceHash: `h${p}`,
        lungflowVersion: "0.1.0",
      },
    });
  }
  const meanShape = `${Math.round((voxels / nPatients) ** (1 / 3))}^3`;
  console.error(`store: ${nPatients} phantom lungs, mean ${meanShape} voxels`);

  // Both pools open at once; their steady epochs alternate (1 worker, 2 workers, 1, 2, ...)
  // so that both see the same drift of the VM's speed.
  type Run = {
    workers: number;
    epoch: () => Promise<number>;
    close: () => Promise<void>;
    stream: { patchesPerEpoch: number; recycledBatches: number };
    tids: string[];
    cold: number;
    coldWall: number;
    patches: number;
    wall: number;
    cpu: number;
    workerCpu: number;
    mainCpu: number;
  };
  const runs: Run[] = [];
  for (const workers of [1, 2]) {
    const before = new Set(threadCpu().keys());
    const { dataset, close, stream } = await patchDataset(storePath, {
      sampler: lungSampler({ size: D }),
      batchSize: B,
      patchesPerPatient: perPatient,
      patientsPerRound: nPatients,
      augment: { huOffset: [-20, 20] },
      workers,
      log: (l) => console.error(l),
    });
    const epoch = async () => {
      let patches = 0;
      const it = await dataset.iterator();
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        patches += r.value.xs.shape[0];
        tf.dispose([r.value.xs, r.value.ys]);
      }
      return patches;
    };
    const t0 = performance.now();
    const cold = await epoch();
    const coldWall = (performance.now() - t0) / 1000;
    const tids = [...threadCpu().keys()].filter((t) => !before.has(t));
    runs.push({
      workers,
      epoch,
      close,
      stream,
      tids,
      cold,
      coldWall,
      patches: 0,
      wall: 0,
      cpu: 0,
      workerCpu: 0,
      mainCpu: 0,
    });
  }
  for (let e = 0; e < warmupEpochs; e++) for (const r of runs) await r.epoch();
  for (let e = 0; e < steadyEpochs; e++) {
    for (const r of runs) {
      const th0 = threadCpu();
      const c0 = cpu();
      const t0 = performance.now();
      r.patches += await r.epoch();
      r.wall += (performance.now() - t0) / 1000;
      r.cpu += cpu() - c0;
      const th1 = threadCpu();
      const delta = (tid: string) => (th1.get(tid) ?? 0) - (th0.get(tid) ?? 0);
      r.workerCpu += r.tids.reduce((sum, t) => sum + delta(t), 0);
      r.mainCpu += delta(mainTid);
    }
  }
  for (const r of runs) await r.close();
  for (const r of runs) {
    const cfg = {
      workers: r.workers,
      patch: `${D}^3`,
      batch: B,
      patients: nPatients,
      meanShape,
      epoch: r.stream.patchesPerEpoch,
      kernel: defaultKernel(),
      loadavg: Number(loadavg()[0].toFixed(1)),
    };
    const add = (c: string, metric: string, value: number, unit: string) =>
      results.push({ case: c, metric, value, unit, ...cfg });
    add("to-tensors", "patches_per_s", Math.round(r.patches / r.wall), "patches/s");
    add("to-tensors", "patches_per_cpu_s", Math.round(r.patches / r.cpu), "patches/cpu-s");
    if (r.tids.length) {
      add("to-tensors", "worker_us_per_patch", +((r.workerCpu / r.patches) * 1e6).toFixed(1), "us");
      add("to-tensors", "main_us_per_patch", +((r.mainCpu / r.patches) * 1e6).toFixed(1), "us");
    }
    add("to-tensors-first-epoch", "patches_per_s", Math.round(r.cold / r.coldWall), "patches/s");
    console.error(
      `workers ${r.workers}: first epoch ${r.cold} patches in ${r.coldWall.toFixed(2)} s; then ${r.patches} patches in ` +
        `${r.wall.toFixed(2)} s = ${Math.round(r.patches / r.wall)}/s, ${r.cpu.toFixed(2)} CPU-s ` +
        `(workers ${r.workerCpu.toFixed(2)}, main ${r.mainCpu.toFixed(2)}); ${r.stream.recycledBatches} batches refilled`,
    );
  }

  // The kernel alone, one thread, as a worker runs it: random origins and symmetries, 32
  // patches per 4 MB batch buffer, six buffers in turn (a batch is consumed before reuse).
  const norm = kernelNorm(-1000, 400, true);
  const outs = Array.from({ length: 6 }, () => new Float32Array(B * D ** 3));
  const batch: PatchJob[] = [];
  const kernelCase = (name: string, hu: Int16Array, shape: Vec3, n: number) => {
    const w = wasmVolume(hu, shape, D ** 3);
    const rng = createRng(5);
    const jobs = Array.from({ length: n }, () => ({
      o: [0, 1, 2].map((a) => rng.int(shape[a] - D + 1)) as Vec3,
      sym: rng.int(48),
    }));
    const native = nativeKernel();
    for (const [impl, f] of [
      [
        "native",
        // As the workers call it: one call per batch of one patient.
        (o: Vec3, s: number, out: Float32Array, k: number) => {
          batch.push({ origin: o, sym: s, offset: 3.5, outOffset: k });
          if (batch.length === B) {
            augmentManyNative(native!, w!, [D, D, D], batch, norm, out);
            batch.length = 0;
          }
        },
      ],
      [
        "wasm",
        (o: Vec3, s: number, out: Float32Array, k: number) =>
          augmentIntoWasm(w!, o, [D, D, D], s, 3.5, norm, out, k),
      ],
      [
        "js",
        (o: Vec3, s: number, out: Float32Array, k: number) =>
          augmentInto(hu, shape, o, [D, D, D], s, 3.5, norm, out, k),
      ],
    ] as const) {
      if (impl !== "js" && !w) continue;
      if (impl === "native" && !native) continue;
      const count = impl === "js" ? Math.ceil(n / 8) : n;
      const run = (m: number) => {
        for (let i = 0; i < m; i++)
          f(jobs[i].o, jobs[i].sym, outs[Math.floor(i / B) % outs.length], (i % B) * D ** 3);
      };
      run(Math.min(count, 256));
      const c0 = cpu();
      run(count);
      results.push({
        case: `kernel-${impl}`,
        metric: "patches_per_cpu_s",
        value: Math.round(count / (cpu() - c0)),
        unit: "patches/cpu-s",
        workers: 0,
        patch: `${D}^3`,
        volume: name,
        loadavg: Number(loadavg()[0].toFixed(1)),
      });
    }
  };
  const ph = makePhantom({ seed: 9, matrix, slices, pixelSpacing: 1, sliceSpacing: 1 });
  const box = bboxOfMask({ data: ph.lungMask, shape: ph.shape })!;
  const vol = crop(makeVolume(ph.hu, ph.shape), box);
  kernelCase(`phantom ${vol.shape.join("x")}`, vol.data, vol.shape as Vec3, quick ? 4000 : 16000);
  // A lung box of realistic size at 1 mm: much larger than the caches.
  const big: Vec3 = [250, 200, 300];
  const bigHu = new Int16Array(big[0] * big[1] * big[2]);
  const r = createRng(3);
  for (let i = 0; i < bigHu.length; i++) bigHu[i] = -1000 + r.int(1400);
  kernelCase(`random ${big.join("x")}`, bigHu, big, quick ? 4000 : 16000);

  // The machine's ceiling for a memory-bound kernel: copy bandwidth with 1 and 2 threads
  // (64 MB float32 buffers, TypedArray.set). The patch workers can scale no better than this.
  const copyThreads = async (threads: number): Promise<number> => {
    const code = `
      const { parentPort, workerData } = require("node:worker_threads");
      const n = 16 * 2 ** 20, src = new Float32Array(n).fill(1), dst = new Float32Array(n).fill(2);
      dst.set(src);
      const t0 = performance.now();
      for (let r = 0; r < workerData.reps; r++) dst.set(src);
      parentPort.postMessage({ t0, t1: performance.now(), bytes: 2 * 4 * n * workerData.reps });`;
    const reps = quick ? 10 : 30;
    const done = await Promise.all(
      Array.from(
        { length: threads },
        () =>
          new Promise<{ t0: number; t1: number; bytes: number }>((resolve, reject) => {
            const w = new Worker(code, { eval: true, workerData: { reps } });
            w.once("message", (m) => {
              resolve(m);
              void w.terminate();
            });
            w.once("error", reject);
          }),
      ),
    );
    // Each thread's own rate (read + write traffic), summed: the threads overlap in time.
    return done.reduce((sum, d) => sum + d.bytes / (d.t1 - d.t0) / 1e6, 0);
  };
  // Alternating rounds, medians (the VM's bandwidth drifts as much as its speed).
  const bw: [number[], number[]] = [[], []];
  for (let round = 0; round < 3; round++)
    for (const t of [1, 2] as const) bw[t - 1].push(await copyThreads(t));
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const bw1 = med(bw[0]);
  const bw2 = med(bw[1]);
  for (const [workers, value] of [
    [1, bw1],
    [2, bw2],
  ] as const)
    results.push({
      case: "memory-copy",
      metric: "gb_per_s",
      value: +value.toFixed(1),
      unit: "GB/s",
      workers,
    });
  results.push({
    case: "memory-copy",
    metric: "scaling",
    value: +(bw2 / bw1).toFixed(2),
    unit: "x",
    workers: 2,
  });
  console.error(
    `memory copy (read + write): 1 thread ${bw1.toFixed(1)} GB/s, 2 threads ${bw2.toFixed(1)} GB/s (${(bw2 / bw1).toFixed(2)}x)`,
  );
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report("patches", results);
