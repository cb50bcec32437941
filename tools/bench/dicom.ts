/**
 * dicom-ingest benchmark: read + decode + HU of a phantom CT series on one core.
 *
 * The parent writes the series with @lungflow/phantom into a temp folder (512x512, 300
 * slices; --quick: 60 slices), then runs each measurement in a fresh child process so that
 * its peak RSS is the reader's alone (not the phantom generator's). Reported: MB/s of pixel
 * data (2 bytes per voxel, 1 MB = 1e6 bytes), slices/s, discovery files/s, peak RSS of the
 * reading process and its ratio to the volume's size, and pydicom doing the same job on the
 * same files (Debian python3, when installed) for a same-machine comparison.
 * Usage: pnpm bench dicom [--quick]
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { discoverSeries, readSeries } from "@lungflow/dicom-ingest";
import { makePhantom, type WriteSeriesOptions, writeSeries } from "@lungflow/phantom";
import { type BenchResult, median, peakRssMiB, quick, report } from "./lib.ts";

/**
 * The same job done the usual pydicom way (dcmread every file, sort by position, stack
 * pixel_array, rescale, padding to -1000) in Debian's python, for comparison on the same
 * machine at the same time. Median wall and CPU ms, or undefined without pydicom.
 */
function pydicomReference(dir: string, reps: number): { wall: number; cpu: number } | undefined {
  const script = `
import os, sys, time, numpy as np, pydicom
d, reps = sys.argv[1], int(sys.argv[2])
walls, cpus = [], []
for _ in range(reps):
    t0, c0 = time.perf_counter(), time.process_time()
    ds = [pydicom.dcmread(os.path.join(d, f)) for f in os.listdir(d) if f.endswith(".dcm")]
    ds.sort(key=lambda s: float(s.ImagePositionPatient[2]))
    raw = np.stack([s.pixel_array for s in ds])
    s0 = ds[0]
    hu = np.round(raw * float(s0.RescaleSlope) + float(s0.RescaleIntercept)).astype(np.int16)
    if "PixelPaddingValue" in s0:
        hu[raw == s0.PixelPaddingValue] = -1000
    np.maximum(hu, -1024, out=hu)
    walls.append((time.perf_counter() - t0) * 1000)
    cpus.append((time.process_time() - c0) * 1000)
print(sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2])
`;
  const r = spawnSync("/usr/bin/python3", ["-c", script, dir, String(reps)], { encoding: "utf8" });
  if (r.status !== 0) {
    console.error(`pydicom reference skipped: ${r.stderr?.trim().split("\n").pop() ?? r.error}`);
    return undefined;
  }
  const [wall, cpu] = r.stdout.trim().split(" ").map(Number);
  return { wall, cpu };
}

const childIdx = process.argv.indexOf("--child");
if (childIdx >= 0) {
  // Child: read the series `reps` times, print one JSON line. Throughput is measured both
  // in wall time and in CPU time of this process (user + system, I/O threads included),
  // which stays meaningful on a shared, loaded machine.
  const dir = process.argv[childIdx + 1];
  const reps = Number(process.argv[childIdx + 2]);
  const baseRssMiB = process.memoryUsage().rss / 2 ** 20;
  const wall: number[] = [];
  const cpu: number[] = [];
  let voxels = 0;
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { volume } = await readSeries(dir);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    voxels = volume.data.length;
  }
  const peakRss = peakRssMiB();
  const t0 = performance.now();
  const disc = await discoverSeries(dir);
  const discoverMs = performance.now() - t0;
  console.log(
    JSON.stringify({
      wall,
      cpu,
      voxels,
      discoverMs,
      files: disc.fileCount,
      baseRssMiB,
      peakRssMiB: peakRss,
    }),
  );
} else {
  const slices = quick ? 60 : 300;
  const matrix = 512;
  const reps = quick ? 2 : 5;
  const root = mkdtempSync(path.join(tmpdir(), "bench-dicom-"));
  const results: BenchResult[] = [];
  try {
    const phantom = makePhantom({ seed: 1, slices, matrix, pixelSpacing: 0.7, sliceSpacing: 1.25 });
    const cases: [string, WriteSeriesOptions][] = [
      ["explicit-int16-padding", { transferSyntax: "explicit", pixels: "int16" }],
      [
        "implicit-uint16-intercept",
        { transferSyntax: "implicit", pixels: "uint16", padding: false },
      ],
    ];
    for (const [name, enc] of cases) {
      const dir = path.join(root, name);
      await writeSeries(phantom, dir, { ...enc, groundTruth: false });
      const me = fileURLToPath(import.meta.url);
      // One core for the conversion (the reader is single-threaded); libuv's file reads run
      // on its thread pool, kept at one thread.
      const child = (n: number) => {
        const r = spawnSync(process.execPath, ["--import", "tsx", me, "--child", dir, String(n)], {
          encoding: "utf8",
          env: { ...process.env, UV_THREADPOOL_SIZE: "1" },
        });
        if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
        return JSON.parse(r.stdout.trim().split("\n").pop()!);
      };
      const mem = child(1); // a single read: its peak RSS is the reader's
      const out = child(reps);
      const bytes = out.voxels * 2;
      const ms = median(out.wall);
      const cpuMs = median(out.cpu);
      const volMiB = bytes / 2 ** 20;
      const readerMiB = mem.peakRssMiB - mem.baseRssMiB;
      const cfg = { slices, matrix, reps, loadavg_1m: +loadavg()[0].toFixed(1) };
      results.push({
        case: name,
        metric: "throughput_wall",
        value: +(bytes / 1e6 / (ms / 1000)).toFixed(1),
        unit: "MB/s",
        ...cfg,
      });
      results.push({
        case: name,
        metric: "throughput_cpu",
        value: +(bytes / 1e6 / (cpuMs / 1000)).toFixed(1),
        unit: "MB/s",
        ...cfg,
      });
      results.push({
        case: name,
        metric: "read_time_wall",
        value: +ms.toFixed(1),
        unit: "ms",
        ...cfg,
      });
      results.push({
        case: name,
        metric: "discover",
        value: Math.round(out.files / (out.discoverMs / 1000)),
        unit: "files/s",
        ...cfg,
      });
      results.push({
        case: name,
        metric: "reader_peak_rss",
        value: Math.round(mem.peakRssMiB),
        unit: "MiB",
        base_MiB: Math.round(mem.baseRssMiB),
        volume_MiB: +volMiB.toFixed(1),
        ...cfg,
      });
      results.push({
        case: name,
        metric: "reader_rss_increase_over_volume",
        value: +(readerMiB / volMiB).toFixed(2),
        unit: "x",
        ...cfg,
      });
      const py = pydicomReference(dir, quick ? 1 : reps);
      if (py) {
        const pyCfg = {
          ...cfg,
          note: "pydicom dcmread + pixel_array + rescale, same files, same machine",
        };
        results.push({
          case: name,
          metric: "pydicom_throughput_wall",
          value: +(bytes / 1e6 / (py.wall / 1000)).toFixed(1),
          unit: "MB/s",
          ...pyCfg,
        });
        results.push({
          case: name,
          metric: "pydicom_throughput_cpu",
          value: +(bytes / 1e6 / (py.cpu / 1000)).toFixed(1),
          unit: "MB/s",
          ...pyCfg,
        });
      }
      console.error(
        `${name}: ${(bytes / 1e6 / (ms / 1000)).toFixed(0)} MB/s wall, ${(bytes / 1e6 / (cpuMs / 1000)).toFixed(0)} MB/s CPU; RSS +${readerMiB.toFixed(0)} MiB for a ${volMiB.toFixed(0)} MiB volume`,
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  report("dicom", results);
}
