/**
 * volume benchmark (one thread): resample a 300x512x512 int16 CT (1.25 x 0.7 x 0.7 mm) to
 * 1 mm isotropic (trilinear) and its mask (nearest); crop and bboxOfMask of the result;
 * applySymmetry and extractPatch of 32^3 patches; normalizeHu.
 * --quick: 60 slices and fewer repetitions.
 * Usage: pnpm bench volume [--quick]
 */
import {
  applySymmetry,
  bboxOfMask,
  crop,
  extractPatch,
  makeVolume,
  normalizeHu,
  resample,
  SYMMETRY_COUNT,
  type Vec3,
} from "@lungflow/volume";
import { type BenchResult, median, quick, report, timeIt } from "./lib.ts";

const results: BenchResult[] = [];
const nz = quick ? 60 : 300;
const shape: Vec3 = [nz, 512, 512];
const spacing: Vec3 = [1.25, 0.7, 0.7];
const n = shape[0] * shape[1] * shape[2];

// A smooth CT-like volume (body ellipse of soft tissue, two air lungs, noise) so that values
// are realistic; the content does not change the cost of the separable passes.
const hu = new Int16Array(n);
const mask = new Uint8Array(n);
let seed = 12345;
const noise = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return ((seed >>> 16) % 41) - 20;
};
for (let z = 0; z < nz; z++)
  for (let y = 0; y < 512; y++)
    for (let x = 0; x < 512; x++) {
      const i = (z * 512 + y) * 512 + x;
      const body = ((x - 256) / 220) ** 2 + ((y - 256) / 160) ** 2 < 1;
      const lung = Math.abs(Math.abs(x - 256) - 100) < 70 && Math.abs(y - 240) < 100;
      hu[i] = (body ? (lung ? -850 : 40) : -1000) + noise();
      mask[i] = body && lung ? 1 : 0;
    }
const vol = makeVolume(hu, shape, spacing);
const mvol = makeVolume(mask, shape, spacing);
const mb = hu.byteLength / 1e6;
const cfg = { shape: shape.join("x"), spacing: spacing.join("x"), threads: 1 };

// CPU time of this process, ms: on a shared, loaded machine it is closer to the idle wall
// time than the wall time is.
function cpuMs(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

let iso = resample(vol);
const cR: number[] = [];
const tR = await timeIt(
  () => {
    cR.push(
      cpuMs(() => {
        iso = resample(vol);
      }),
    );
  },
  quick ? 2 : 3,
  1,
);
results.push({
  case: "resample int16 -> 1mm trilinear",
  metric: "cpu_time",
  value: Math.round(Math.min(...cR)),
  unit: "ms",
  ...cfg,
});
results.push({
  case: "resample int16 -> 1mm trilinear",
  metric: "time",
  value: Math.round(median(tR)),
  unit: "ms",
  ...cfg,
  out: iso.shape.join("x"),
});
results.push({
  case: "resample int16 -> 1mm trilinear",
  metric: "throughput",
  value: Math.round(mb / (median(tR) / 1000)),
  unit: "MB/s (input)",
  ...cfg,
});

let miso = resample(mvol);
const tM = await timeIt(
  () => {
    miso = resample(mvol);
  },
  quick ? 2 : 3,
  1,
);
results.push({
  case: "resample mask -> 1mm nearest",
  metric: "time",
  value: Math.round(median(tM)),
  unit: "ms",
  ...cfg,
});

let box = bboxOfMask(miso);
const tB = await timeIt(
  () => {
    box = bboxOfMask(miso);
  },
  5,
  1,
);
results.push({
  case: "bboxOfMask (1mm mask)",
  metric: "time",
  value: +median(tB).toFixed(1),
  unit: "ms",
  shape: miso.shape.join("x"),
});
if (box) {
  const b = box;
  const tC = await timeIt(() => crop(iso, b), 5, 1);
  results.push({
    case: "crop (1mm HU to lung box)",
    metric: "time",
    value: +median(tC).toFixed(1),
    unit: "ms",
    box: JSON.stringify(b),
  });
}

// 32^3 patches: symmetry and extraction per patch, microseconds.
const P = 32;
const patchF = new Float32Array(P * P * P).map((_, i) => (i * 7919) % 1000);
const patchI = Int16Array.from(patchF);
const outF = new Float32Array(P * P * P);
const outI = new Int16Array(P * P * P);
const reps = quick ? 2400 : 9600;
{
  // Calibration on a shared machine: a plain element-by-element copy loop of one patch.
  const copy = (a: Float32Array, b: Float32Array) => {
    for (let i = 0; i < a.length; i++) b[i] = a[i];
  };
  for (let k = 0; k < 960; k++) copy(patchF, outF);
  const c = cpuMs(() => {
    for (let k = 0; k < reps; k++) copy(patchF, outF);
  });
  results.push({
    case: "calibration: plain copy loop 32^3 float32",
    metric: "cpu_time",
    value: +((c * 1000) / reps).toFixed(2),
    unit: "us/patch",
  });
}
for (const [label, src, out] of [
  ["float32", patchF, outF],
  ["int16", patchI, outI],
] as const) {
  for (let k = 0; k < 960; k++)
    applySymmetry(src as Float32Array, [P, P, P], k % SYMMETRY_COUNT, out as Float32Array);
  const cpu: number[] = [];
  const t = await timeIt(
    () => {
      cpu.push(
        cpuMs(() => {
          for (let k = 0; k < reps; k++)
            applySymmetry(src as Float32Array, [P, P, P], k % SYMMETRY_COUNT, out as Float32Array);
        }),
      );
    },
    3,
    0,
  );
  const us = (median(t) * 1000) / reps;
  results.push({
    case: `applySymmetry 32^3 ${label} (all 48, out buffer)`,
    metric: "cpu_time",
    value: +((Math.min(...cpu) * 1000) / reps).toFixed(2),
    unit: "us/patch",
  });
  results.push({
    case: `applySymmetry 32^3 ${label} (all 48, out buffer)`,
    metric: "time",
    value: +us.toFixed(2),
    unit: "us/patch",
  });
  results.push({
    case: `applySymmetry 32^3 ${label} (all 48, out buffer)`,
    metric: "throughput",
    value: Math.round(1e6 / us),
    unit: "patches/s",
  });
}
{
  const out = new Int16Array(P * P * P);
  const [iz, iy, ix] = iso.shape;
  let s = 7;
  const starts = Array.from({ length: 1000 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return [(s >>> 8) % (iz - P), (s >>> 12) % (iy - P), (s >>> 4) % (ix - P)];
  });
  const t = await timeIt(
    () => {
      for (let k = 0; k < reps; k++) extractPatch(iso, starts[k % 1000], [P, P, P], -1000, out);
    },
    3,
    1,
  );
  results.push({
    case: "extractPatch 32^3 int16 (in bounds, out buffer)",
    metric: "time",
    value: +((median(t) * 1000) / reps).toFixed(2),
    unit: "us/patch",
  });
  const norm = new Float32Array(P * P * P);
  const tn = await timeIt(
    () => {
      for (let k = 0; k < reps; k++) normalizeHu(out, {}, norm);
    },
    3,
    1,
  );
  results.push({
    case: "normalizeHu 32^3",
    metric: "time",
    value: +((median(tn) * 1000) / reps).toFixed(2),
    unit: "us/patch",
  });
}
report("volume", results);
