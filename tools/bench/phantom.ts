/**
 * Phantom generation and DICOM writing throughput on 512 x 512 slices (the size of real
 * chest CT), plus the small 96 x 96 x 48 phantom the tests use. Each case also reports
 * `cpuMs` (user + system CPU per run), which stays meaningful on a loaded machine.
 *
 *   pnpm bench phantom [--quick]     (--quick: 60 slices instead of 300)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makePhantom, type Phantom, writeSeries } from "@lungflow/phantom";
import { type BenchResult, median, quick, report, timeIt } from "./lib.ts";

const slices = quick ? 60 : 300;
const config = { matrix: 512, slices, pixelSpacing: 0.7, sliceSpacing: 1.25 };
const results: BenchResult[] = [];

/** Wall ms per run (median) and CPU ms per run of `fn`, after `warmup` untimed runs. */
async function measure(
  fn: () => unknown,
  reps: number,
  warmup: number,
): Promise<{ ms: number; cpuMs: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const c0 = process.cpuUsage();
  const wall = await timeIt(fn, reps, 0);
  const c = process.cpuUsage(c0);
  return { ms: median(wall), cpuMs: Math.round((c.user + c.system) / 1000 / reps) };
}

const dir = mkdtempSync(path.join(tmpdir(), "bench-phantom-"));
try {
  const small = await measure(() => makePhantom({ seed: 1, nodules: 3 }), quick ? 5 : 20, 3);
  results.push({
    case: "generate 96x96x48",
    metric: "time",
    value: +small.ms.toFixed(1),
    unit: "ms",
    cpuMs: small.cpuMs,
  });

  let phantom: Phantom = makePhantom({ seed: 1, nodules: 3, ...config });
  const gen = await measure(
    () => {
      phantom = makePhantom({ seed: 2, nodules: 3, ...config });
    },
    quick ? 1 : 2,
    0,
  );
  results.push({
    case: `generate 512x512x${slices}`,
    metric: "throughput",
    value: +(slices / (gen.ms / 1000)).toFixed(1),
    unit: "slices/s",
    ms: Math.round(gen.ms),
    cpuMs: gen.cpuMs,
  });

  let bytes = 0;
  const write = await measure(
    async () => {
      bytes = (await writeSeries(phantom, path.join(dir, "w"), { groundTruth: false })).bytes;
    },
    quick ? 1 : 2,
    1,
  );
  const wcase = `write DICOM 512x512x${slices}`;
  results.push({
    case: wcase,
    metric: "throughput",
    value: +(slices / (write.ms / 1000)).toFixed(1),
    unit: "slices/s",
    ms: Math.round(write.ms),
    cpuMs: write.cpuMs,
  });
  results.push({
    case: wcase,
    metric: "bandwidth",
    value: +(bytes / 1e6 / (write.ms / 1000)).toFixed(1),
    unit: "MB/s",
  });

  const both = await measure(
    async () => {
      await writeSeries(makePhantom({ seed: 3, nodules: 3, ...config }), path.join(dir, "b"), {});
    },
    1,
    0,
  );
  results.push({
    case: `generate + write DICOM + ground truth 512x512x${slices}`,
    metric: "throughput",
    value: +(slices / (both.ms / 1000)).toFixed(1),
    unit: "slices/s",
    ms: Math.round(both.ms),
    cpuMs: both.cpuMs,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
report("phantom", results);
