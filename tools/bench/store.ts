/**
 * Patch-store benchmark: write MB/s, whole-volume read MB/s, and random 32^3 patch reads
 * per second (cold: a fresh store, every patch decoding its chunks; warm: through the LRU
 * chunk cache). Write and volume read run with the native zstd (the default) and again with
 * the WASM codec (setZstdBackend("wasm")) on the same volumes: `write_wasm`, `read_volume_wasm`. Volumes are synthetic chest-like HU (lungs at -850, tissue at 40, noise
 * 20 HU) of a typical cropped kdsb17 size.
 * Usage: pnpm bench store [--quick]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  openStore,
  type PreprocessingParams,
  setZstdBackend,
  zstdBackend,
} from "@lungflow/patch-store";
import { makeVolume, mulberry32, type Vec3 } from "@lungflow/volume";
import { type BenchResult, quick, report } from "./lib.ts";

const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};

function chestLike(shape: Vec3, seed: number) {
  const [nz, ny, nx] = shape;
  const hu = new Int16Array(nz * ny * nx);
  const mask = new Uint8Array(hu.length);
  const rand = mulberry32(seed);
  let i = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const dz = (z - nz / 2) / (nz / 2);
        const dy = (y - ny / 2) / (ny / 2);
        const dxl = (x - nx * 0.27) / (nx * 0.24);
        const dxr = (x - nx * 0.73) / (nx * 0.24);
        const lung = dz * dz + dy * dy + Math.min(dxl * dxl, dxr * dxr) < 1;
        const noise = (rand() + rand() + rand() - 1.5) * 40;
        hu[i] = Math.round((lung ? -850 : 40) + noise);
        mask[i] = lung ? 1 : 0;
      }
  return { hu: makeVolume(hu, shape), mask: makeVolume(mask, shape) };
}

const shape: Vec3 = quick ? [128, 128, 160] : [280, 220, 300];
const patients = quick ? 2 : 4;
const patches = quick ? 200 : 1000;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-store-"));
const storePath = path.join(dir, "s.zarr");
const results: BenchResult[] = [];
const mb = (shape[0] * shape[1] * shape[2] * 3) / 1e6; // int16 hu + uint8 mask
const cfg = { shape: shape.join("x"), chunk: 64, zstdLevel: 3 };
/** Writes the bench's patients into a new store at `at`; milliseconds spent writing. */
async function writeAll(at: string): Promise<number> {
  const store = await openStore(at, { create: true, params: PARAMS });
  let writeMs = 0;
  for (let p = 0; p < patients; p++) {
    const { hu, mask } = chestLike(shape, p + 1);
    const t0 = performance.now();
    await store.writePatient({
      id: `p${p}`,
      hu,
      mask,
      params: PARAMS,
      source: {
        bbox: [
          [0, shape[0]],
          [0, shape[1]],
          [0, shape[2]],
        ],
        sourceSpacing: [2.5, 0.7, 0.7],
        sourceShape: [120, 512, 512],
        otsuThreshold: -400,
        seriesInstanceUid: "1.2.3",
        fileCount: 120,
        sourceHash: `h${p}`,
        lungflowVersion: "bench",
      },
    });
    writeMs += performance.now() - t0;
  }
  return writeMs;
}

/** Reads every patient's hu and mask from a fresh handle; milliseconds. */
async function readAll(at: string): Promise<number> {
  const fresh = await openStore(at);
  const t0 = performance.now();
  for (let p = 0; p < patients; p++) {
    await fresh.readVolume(`p${p}`, "hu");
    await fresh.readVolume(`p${p}`, "mask");
  }
  return performance.now() - t0;
}

try {
  const zstd = zstdBackend();
  if (zstd.backend !== "native") console.error(`native zstd unavailable: ${zstd.reason}`);
  const writeMs = await writeAll(storePath);
  results.push({
    case: "write",
    metric: "throughput",
    value: +((mb * patients) / (writeMs / 1000)).toFixed(1),
    unit: "MB/s",
    ...cfg,
    zstd: zstd.backend,
  });
  setZstdBackend("wasm");
  const wasmStore = path.join(dir, "wasm.zarr");
  const wasmWriteMs = await writeAll(wasmStore);
  const wasmReadMs = await readAll(wasmStore);
  setZstdBackend("auto");
  results.push({
    case: "write_wasm",
    metric: "throughput",
    value: +((mb * patients) / (wasmWriteMs / 1000)).toFixed(1),
    unit: "MB/s",
    ...cfg,
    zstd: "wasm",
  });
  console.error(
    `write: ${zstd.backend} zstd ${((mb * patients) / (writeMs / 1000)).toFixed(1)} MB/s, WASM zstd ${((mb * patients) / (wasmWriteMs / 1000)).toFixed(1)} MB/s`,
  );
  let onDisk = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else onDisk += fs.statSync(p).size;
    }
  };
  walk(storePath);
  results.push({
    case: "write",
    metric: "compression_ratio",
    value: +((mb * patients * 1e6) / onDisk).toFixed(2),
    unit: "x",
    ...cfg,
  });

  const readMs = await readAll(storePath);
  results.push({
    case: "read_volume",
    metric: "throughput",
    value: +((mb * patients) / (readMs / 1000)).toFixed(1),
    unit: "MB/s",
    ...cfg,
    zstd: zstd.backend,
  });
  results.push({
    case: "read_volume_wasm",
    metric: "throughput",
    value: +((mb * patients) / (wasmReadMs / 1000)).toFixed(1),
    unit: "MB/s",
    ...cfg,
    zstd: "wasm",
  });

  let t0: number;
  const rand = mulberry32(9);
  const boxes = Array.from({ length: patches }, () => ({
    id: `p${Math.floor(rand() * patients)}`,
    o: shape.map((n) => Math.floor(rand() * (n - 32))) as Vec3,
  }));
  const cold = await openStore(storePath, { cacheBytes: 0 });
  t0 = performance.now();
  for (const b of boxes) await cold.readPatch(b.id, b.o, [32, 32, 32]);
  results.push({
    case: "patch32_uncached",
    metric: "rate",
    value: +(patches / ((performance.now() - t0) / 1000)).toFixed(1),
    unit: "patches/s",
    ...cfg,
  });
  const warm = await openStore(storePath, { cacheBytes: 1024 * 1024 * 1024 });
  for (const b of boxes) await warm.readPatch(b.id, b.o, [32, 32, 32]);
  t0 = performance.now();
  for (const b of boxes) await warm.readPatch(b.id, b.o, [32, 32, 32]);
  results.push({
    case: "patch32_cached",
    metric: "rate",
    value: +(patches / ((performance.now() - t0) / 1000)).toFixed(1),
    unit: "patches/s",
    ...cfg,
  });

  const fresh = await openStore(storePath);
  t0 = performance.now();
  const v = await fresh.verify();
  results.push({
    case: "verify",
    metric: "throughput",
    value: +(v.bytes / 1e6 / ((performance.now() - t0) / 1000)).toFixed(1),
    unit: "MB/s",
    ...cfg,
  });
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report("store", results);
