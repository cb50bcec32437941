/**
 * lung-segmentation benchmark (one thread): mask + crop (`segmentLungs`) of a 1 mm volume
 * resampled from a 300-slice 512x512 phantom (1.25 x 0.7 x 0.7 mm -> about 375x359x359),
 * in kdsb17 mode and in improved mode. The segmentation runs in a child process that only
 * reads the resampled volume, so its peak RSS is the segmentation's, not the phantom's.
 * --quick: a 120-slice 256x256 phantom at 1.4 mm (-> about 150x358x358).
 * Usage: pnpm bench segmentation [--quick]
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { segmentLungs } from "@lungflow/lung-segmentation";
import { makePhantom } from "@lungflow/phantom";
import { makeVolume, resample, type Vec3 } from "@lungflow/volume";
import { type BenchResult, median, quick, report } from "./lib.ts";

const here = fileURLToPath(import.meta.url);
const childArg = process.argv.indexOf("--child");

if (childArg >= 0) {
  // Child: read the volume, time segmentLungs, print one JSON line of raw numbers.
  const dir = process.argv[childArg + 1];
  const meta = JSON.parse(fs.readFileSync(path.join(dir, "meta.json"), "utf8"));
  const buf = fs.readFileSync(path.join(dir, "hu.raw"));
  const hu = new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
  const vol = makeVolume(hu, meta.shape, meta.spacing, meta.origin);
  const out: Record<string, unknown> = {};
  for (const mode of ["kdsb17", "improved"] as const) {
    const reps = mode === "kdsb17" ? (quick ? 3 : 5) : 1;
    if (mode === "kdsb17" || !quick) segmentLungs(vol, { mode }); // warm-up (JIT)
    const wall: number[] = [];
    const cpu: number[] = [];
    let last: ReturnType<typeof segmentLungs> | undefined;
    for (let r = 0; r < reps; r++) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      last = segmentLungs(vol, { mode });
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    out[mode] = {
      wall,
      cpu,
      bbox: last!.bbox,
      lungVoxels: last!.stats.lungVoxels,
      timingsMs: last!.stats.timingsMs,
    };
    if (mode === "kdsb17") out.rssAfterKdsb17 = process.resourceUsage().maxRSS / 1024;
  }
  out.peakRss = process.resourceUsage().maxRSS / 1024;
  out.inputMiB = hu.byteLength / 2 ** 20;
  console.log(JSON.stringify(out));
  process.exit(0);
}

const opts = quick
  ? { seed: 7, slices: 120, matrix: 256, pixelSpacing: 1.4, sliceSpacing: 1.25 }
  : { seed: 7, slices: 300, matrix: 512, pixelSpacing: 0.7, sliceSpacing: 1.25 };
const p = makePhantom({ ...opts, bowelGas: true, nodules: 5 });
const iso = resample(makeVolume(p.hu, p.shape, p.spacing as Vec3, p.origin as Vec3));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-seg-"));
interface ModeRun {
  wall: number[];
  cpu: number[];
  bbox: number[][];
  timingsMs: Record<string, number>;
}
let child: {
  kdsb17: ModeRun;
  improved: ModeRun;
  peakRss: number;
  inputMiB: number;
  rssAfterKdsb17: number;
};
try {
  fs.writeFileSync(
    path.join(dir, "hu.raw"),
    new Uint8Array(iso.data.buffer, iso.data.byteOffset, iso.data.byteLength),
  );
  fs.writeFileSync(
    path.join(dir, "meta.json"),
    JSON.stringify({ shape: iso.shape, spacing: iso.spacing, origin: iso.origin }),
  );
  const args = ["--import", "tsx", here, "--child", dir, ...(quick ? ["--quick"] : [])];
  const stdout = execFileSync(process.execPath, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  child = JSON.parse(stdout.trim().split("\n").pop()!);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

const cfg = {
  shape: iso.shape.join("x"),
  source: `${opts.slices}x${opts.matrix}x${opts.matrix}`,
  threads: 1,
};
const results: BenchResult[] = [];
for (const mode of ["kdsb17", "improved"] as const) {
  const r = child[mode];
  results.push({
    case: `segmentLungs ${mode}`,
    metric: "wall",
    value: +(median(r.wall) / 1000).toFixed(3),
    unit: "s",
    ...cfg,
    bbox: JSON.stringify(r.bbox),
  });
  results.push({
    case: `segmentLungs ${mode}`,
    metric: "cpu",
    value: +(median(r.cpu) / 1000).toFixed(3),
    unit: "s",
    ...cfg,
  });
  console.log(
    `${mode}: wall ${r.wall.map((x: number) => x.toFixed(0)).join(", ")} ms; cpu ${r.cpu.map((x: number) => x.toFixed(0)).join(", ")} ms; steps ${JSON.stringify(r.timingsMs)}`,
  );
}
results.push({
  case: "segmentLungs process (input volume + segmentation)",
  metric: "peak_rss",
  value: Math.round(child.peakRss),
  unit: "MiB",
  ...cfg,
  inputMiB: Math.round(child.inputMiB),
  afterKdsb17MiB: Math.round(child.rssAfterKdsb17),
});
report("segmentation", results);
