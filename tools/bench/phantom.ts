/**
 * Phantom generation and DICOM writing throughput on 512 x 512 slices (the size of real
 * chest CT), plus the small 96 x 96 x 48 phantom the tests use.
 *
 *   pnpm bench phantom [--quick]     (--quick: 60 slices instead of 300)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { makePhantom, writeSeries } from "@lungflow/phantom";
import { type BenchResult, median, quick, report, timeIt } from "./lib.ts";

const slices = quick ? 60 : 300;
const config = { matrix: 512, slices, pixelSpacing: 0.7, sliceSpacing: 1.25 };
const results: BenchResult[] = [];
const dir = mkdtempSync(path.join(tmpdir(), "bench-phantom-"));
try {
  // Small phantom (tests): ms per phantom.
  const small = await timeIt(() => makePhantom({ seed: 1, nodules: 3 }), quick ? 5 : 20, 3);
  results.push({
    case: "generate 96x96x48",
    metric: "time",
    value: +median(small).toFixed(1),
    unit: "ms",
  });

  // 512 x 512: generation alone, then DICOM writing alone, then both (one patient).
  let phantom = makePhantom({ seed: 1, nodules: 3, ...config });
  const gen = await timeIt(
    () => {
      phantom = makePhantom({ seed: 2, nodules: 3, ...config });
    },
    quick ? 1 : 2,
    0,
  );
  const g = median(gen);
  results.push({
    case: `generate 512x512x${slices}`,
    metric: "throughput",
    value: +(slices / (g / 1000)).toFixed(1),
    unit: "slices/s",
    ms: Math.round(g),
  });

  let bytes = 0;
  const write = await timeIt(
    async () => {
      const w = await writeSeries(phantom, path.join(dir, "w"), { groundTruth: false });
      bytes = w.bytes;
    },
    quick ? 1 : 2,
    1,
  );
  const w = median(write);
  results.push({
    case: `write DICOM 512x512x${slices}`,
    metric: "throughput",
    value: +(slices / (w / 1000)).toFixed(1),
    unit: "slices/s",
    ms: Math.round(w),
  });
  results.push({
    case: `write DICOM 512x512x${slices}`,
    metric: "bandwidth",
    value: +(bytes / 1e6 / (w / 1000)).toFixed(1),
    unit: "MB/s",
  });

  const both = await timeIt(
    async () => {
      const p = makePhantom({ seed: 3, nodules: 3, ...config });
      await writeSeries(p, path.join(dir, "b"), {});
    },
    1,
    0,
  );
  results.push({
    case: `generate + write DICOM + ground truth 512x512x${slices}`,
    metric: "throughput",
    value: +(slices / (both[0] / 1000)).toFixed(1),
    unit: "slices/s",
    ms: Math.round(both[0]),
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
report("phantom", results);
