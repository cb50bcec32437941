/**
 * Patch streaming benchmark: augmented 32^3 patches per second from a patch store, reaching
 * the training loop as tensors (`patchDataset`: sampler -> Piscina workers (cut, one of 48
 * symmetries, HU offset, normalisation) -> pull bridge -> tf.data -> `{xs, ys}`), with 1 and
 * 2 workers. The store holds phantom chests (1 mm, cropped to the lung box). Reported:
 * - `patches_per_s` (wall clock, steady state: epoch 2, volumes already decoded in the workers),
 * - `patches_per_cpu_s` (patches per second of CPU used by the whole process: the per-core
 *   rate, robust to other load on the machine),
 * - the first epoch (decoding the volumes from the store included),
 * - the kernel alone on one thread (wasm SIMD and plain JS), as patches per CPU-second.
 * Usage: pnpm bench patches [--quick]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import { loadavg } from "node:os";
import * as path from "node:path";
import { lungSampler, openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { makePhantom } from "@lungflow/phantom";
import {
  augmentInto,
  augmentIntoWasm,
  kernelNorm,
  patchDataset,
  wasmVolume,
} from "@lungflow/pipeline";
import { initTf, tf } from "@lungflow/tf-runtime";
import { bboxOfMask, crop, makeVolume, type Vec3 } from "@lungflow/volume";
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
const perPatient = quick ? 256 : 1024;
const results: BenchResult[] = [];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-patches-"));
const storePath = path.join(dir, "s.zarr");
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

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

  for (const workers of [1, 2]) {
    const { dataset, close, stream } = await patchDataset(storePath, {
      sampler: lungSampler({ size: D }),
      batchSize: B,
      patchesPerPatient: perPatient,
      patientsPerRound: nPatients,
      augment: { huOffset: [-20, 20] },
      workers,
      maxInFlight: 2 * workers,
      queueSize: 4,
      log: (l) => console.error(l),
    });
    const epochs: { wall: number; cpu: number; patches: number }[] = [];
    for (let e = 0; e < 2; e++) {
      const t0 = performance.now();
      const c0 = cpu();
      let patches = 0;
      const it = await dataset.iterator();
      for (;;) {
        const r = await it.next();
        if (r.done) break;
        patches += r.value.xs.shape[0];
        tf.dispose([r.value.xs, r.value.ys]);
      }
      epochs.push({ wall: (performance.now() - t0) / 1000, cpu: cpu() - c0, patches });
    }
    await close();
    const cfg = {
      workers,
      patch: `${D}^3`,
      batch: B,
      patients: nPatients,
      meanShape,
      loadavg: Number(loadavg()[0].toFixed(1)),
    };
    const [cold, warm] = epochs;
    results.push({
      case: "to-tensors",
      metric: "patches_per_s",
      value: Math.round(warm.patches / warm.wall),
      unit: "patches/s",
      ...cfg,
    });
    results.push({
      case: "to-tensors",
      metric: "patches_per_cpu_s",
      value: Math.round(warm.patches / warm.cpu),
      unit: "patches/cpu-s",
      ...cfg,
    });
    results.push({
      case: "to-tensors-first-epoch",
      metric: "patches_per_s",
      value: Math.round(cold.patches / cold.wall),
      unit: "patches/s",
      ...cfg,
    });
    console.error(
      `workers ${workers}: ${stream.patchesPerEpoch} patches/epoch; first epoch ${cold.wall.toFixed(2)} s, second ${warm.wall.toFixed(2)} s (${warm.cpu.toFixed(2)} CPU-s)`,
    );
  }

  // The kernel alone, one thread: random 32^3 patches of a cropped phantom lung.
  const ph = makePhantom({ seed: 9, matrix, slices, pixelSpacing: 1, sliceSpacing: 1 });
  const box = bboxOfMask({ data: ph.lungMask, shape: ph.shape })!;
  const vol = crop(makeVolume(ph.hu, ph.shape), box);
  const w = wasmVolume(vol.data, vol.shape as Vec3, D ** 3);
  const norm = kernelNorm(-1000, 400, true);
  const out = new Float32Array(B * D ** 3);
  const n = quick ? 2000 : 8000;
  const origins = Array.from(
    { length: n },
    (_, i) =>
      [0, 1, 2].map((a) => (i * [37, 91, 13][a] * 7) % Math.max(1, vol.shape[a] - D)) as Vec3,
  );
  for (const [name, f] of [
    [
      "wasm",
      (o: Vec3, s: number, k: number) => augmentIntoWasm(w!, o, [D, D, D], s, 3.5, norm, out, k),
    ],
    [
      "js",
      (o: Vec3, s: number, k: number) =>
        augmentInto(vol.data, vol.shape as Vec3, o, [D, D, D], s, 3.5, norm, out, k),
    ],
  ] as const) {
    if (name === "wasm" && !w) continue;
    for (let i = 0; i < 200; i++) f(origins[i], i % 48, (i % B) * D ** 3);
    const c0 = cpu();
    for (let i = 0; i < n; i++) f(origins[i], i % 48, (i % B) * D ** 3);
    results.push({
      case: `kernel-${name}`,
      metric: "patches_per_cpu_s",
      value: Math.round(n / (cpu() - c0)),
      unit: "patches/cpu-s",
      workers: 0,
      patch: `${D}^3`,
      loadavg: Number(loadavg()[0].toFixed(1)),
    });
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report("patches", results);
