/**
 * Ingest benchmark: a cohort of phantom CT series (300 slices of 512 x 512; --quick: 48
 * slices of 128 x 128) ingested into a fresh store with 1 and then 2 workers. Reports
 * patients/min, MB/s of DICOM, mean seconds per patient of each stage (hash, read+HU,
 * resample, segment, write) and peak RSS: of the whole process, and per worker
 * ((peak - RSS before the run) / workers). Each configuration runs in its own child process
 * so that peaks do not mix.
 * Then (unless --no-seed) the same series through the seed-style Python pipeline
 * (seed_ingest.py: pydicom, scipy.ndimage.zoom, scikit-image) side by side: see seedCases.
 * Then (unless --no-services) a 24-patient cohort (8 with --quick) through one process vs a
 * BullMQ queue with 2 worker processes, and DICOMweb (Orthanc) vs folder: see servicesCases.
 * --seed-only runs the side by side alone. Every case prints the 1-minute load average when
 * it starts (the machine is shared: a busy one slows lungflow's helpers first).
 * Usage: pnpm bench ingest [--quick] [--patients N] [--no-seed] [--no-services] [--seed-only]
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { writeCohort } from "@lungflow/phantom";
import { type IngestEvent, ingest } from "@lungflow/pipeline";
import { orthancMissing, startOrthanc } from "../../packages/pipeline/test/orthanc-server.ts";
import { redisMissing, startRedis } from "../../packages/pipeline/test/redis-server.ts";
import { type BenchResult, peakRssMiB, quick, report } from "./lib.ts";

const BIN = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));
const PYTHON = "/usr/bin/python3";
const SEED = fileURLToPath(new URL("./seed_ingest.py", import.meta.url));

const argv = process.argv.slice(2);

async function child(root: string, store: string, workers: number): Promise<void> {
  const baseRssMiB = process.memoryUsage.rss() / 1048576;
  const events: IngestEvent[] = [];
  await new Promise<void>((resolve, reject) =>
    ingest({ root, store, workers }).subscribe({
      next: (e) => events.push(e),
      error: reject,
      complete: resolve,
    }),
  );
  const fin = events.at(-1);
  if (fin?.type !== "finished") throw new Error("no summary");
  const failed = events.filter((e) => e.type === "failed");
  if (failed.length) throw new Error(`failed: ${JSON.stringify(failed)}`);
  console.log(JSON.stringify({ summary: fin.summary, peakRssMiB: peakRssMiB(), baseRssMiB }));
}

if (argv[0] === "--child") {
  await child(argv[1], argv[2], Number(argv[3]));
  process.exit(0);
}

const pi = argv.indexOf("--patients");
const patients = pi >= 0 ? Number(argv[pi + 1]) : quick ? 2 : 2;
const geometry = quick
  ? { matrix: 128, slices: 48, pixelSpacing: 0.9, sliceSpacing: 2.5 }
  : { matrix: 512, slices: 300, pixelSpacing: 0.7, sliceSpacing: 1.25 };
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-ingest-"));
const results: BenchResult[] = [];
try {
  const root = path.join(dir, "dicom");
  const t0 = performance.now();
  if (!argv.includes("--seed-only")) {
    await writeCohort({ out: root, patients, seed: 1, ...geometry, groundTruth: false });
    console.error(
      `cohort of ${patients} written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const cfg = { patients, slices: geometry.slices, matrix: geometry.matrix };
  for (const workers of argv.includes("--seed-only") ? [] : [1, 2]) {
    const store = path.join(dir, `w${workers}.zarr`);
    const r = spawnSync(
      process.execPath,
      ["--import", "tsx", fileURLToPath(import.meta.url), "--child", root, store, String(workers)],
      {
        encoding: "utf8",
        maxBuffer: 1 << 24,
      },
    );
    if (r.status !== 0) throw new Error(`child with ${workers} worker(s) failed: ${r.stderr}`);
    const {
      summary: s,
      peakRssMiB: peak,
      baseRssMiB: base,
    } = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "{}");
    const c = { ...cfg, workers };
    const per = (ms: number) => +(ms / 1000 / Math.max(1, s.ingested)).toFixed(2);
    results.push({
      case: `ingest_w${workers}`,
      metric: "patients_per_min",
      value: s.patientsPerMin,
      unit: "patients/min",
      ...c,
    });
    results.push({
      case: `ingest_w${workers}`,
      metric: "dicom_throughput",
      value: s.dicomMBps,
      unit: "MB/s",
      ...c,
    });
    for (const stage of ["hash", "read", "resample", "segment", "write", "total"]) {
      results.push({
        case: `ingest_w${workers}`,
        metric: `stage_${stage}`,
        value: per(s.stageMs[stage]),
        unit: "s/patient",
        ...c,
      });
    }
    results.push({
      case: `ingest_w${workers}`,
      metric: "peak_rss_process",
      value: Math.round(peak),
      unit: "MiB",
      ...c,
    });
    results.push({
      case: `ingest_w${workers}`,
      metric: "peak_rss_per_worker",
      value: Math.round((peak - base) / workers),
      unit: "MiB",
      ...c,
    });
    console.error(
      `${workers} worker(s): ${s.patientsPerMin} patients/min, ${s.dicomMBps} MB/s, ${(s.durationMs / 1000).toFixed(1)} s`,
    );
  }
  if (!argv.includes("--no-seed")) await seedCases();
  if (!argv.includes("--no-services") && !argv.includes("--seed-only")) await servicesCases();
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report("ingest", results);

/** Runs `cmd args` to its exit; resolves to the wall seconds (throws on a non-zero exit). */
function timed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], env: env ?? process.env });
    let err = "";
    c.stderr.on("data", (d) => {
      err += d;
    });
    c.on("error", reject);
    c.on("exit", (code) =>
      code === 0
        ? resolve((performance.now() - t0) / 1000)
        : reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err.slice(-2000)}`)),
    );
  });
}

/** Runs the CLI to its exit; resolves to the wall seconds (throws on a non-zero exit). */
function cli(args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return timed(process.execPath, [BIN, ...args], env);
}

/** The 1-minute load average, printed with each case (other work on the machine skews it). */
function load(what: string): number {
  const l = +os.loadavg()[0].toFixed(2);
  console.error(`${what}: load average ${l} (1 min) on ${os.availableParallelism()} cores`);
  return l;
}

type Stages = Record<"hash" | "read" | "resample" | "segment" | "write" | "total", number>;

/**
 * One patient through `lungflow ingest --workers 1 --report` (and `--threads` when given:
 * 1 turns the helpers off): wall seconds, ms from process start to the first patient handed
 * to the workers, the write stage's MB/s (HU int16 + mask uint8 of the stored shape over the
 * stage's seconds), the patient's stage ms and the parts helper threads did.
 */
async function cliOne(
  root: string,
  store: string,
  env?: NodeJS.ProcessEnv,
  threads?: number,
): Promise<{ wall: number; readyMs: number; writeMBps: number; stages: Stages; helped: number }> {
  const rep = `${store}.json`;
  const t = threads === undefined ? [] : ["--threads", String(threads)];
  const wall = await cli(
    ["ingest", root, "--store", store, "--workers", "1", ...t, "--report", rep],
    env,
  );
  const r = JSON.parse(fs.readFileSync(rep, "utf8"));
  const e = r.events.find((x: IngestEvent) => x.type === "ingested");
  const voxels = e.shape.reduce((a: number, b: number) => a * b, 1);
  return {
    wall,
    readyMs: r.startup.readyMs,
    writeMBps: (voxels * 3) / 1e6 / (e.timings.write / 1000),
    stages: e.timings,
    helped: e.helpedParts,
  };
}

/** "read 0.52, resample 0.61, ..." in seconds. */
function stagesText(s: Stages): string {
  return (["hash", "read", "resample", "segment", "write", "total"] as const)
    .map((k) => `${k} ${(s[k] / 1000).toFixed(2)}`)
    .join(", ");
}

/** Why the seed-style Python pipeline cannot run here, or undefined when it can. */
function pythonMissing(): string | undefined {
  const r = spawnSync(PYTHON, ["-c", "import pydicom, scipy.ndimage, skimage.measure"], {
    encoding: "utf8",
  });
  if (r.error) return `${PYTHON} not found`;
  if (r.status !== 0) return `${PYTHON} lacks pydicom/scipy/scikit-image: ${r.stderr.trim()}`;
  return undefined;
}

/** `seed_ingest.py` on `pairs` ([series dir, out dir]...) in `procs` processes; wall seconds. */
async function seed(pairs: [string, string][], procs: number, order = 3): Promise<number> {
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: procs }, (_, p) =>
      timed(PYTHON, [
        SEED,
        "--order",
        String(order),
        ...pairs.filter((_, i) => i % procs === p).flat(),
      ]),
    ),
  );
  return (performance.now() - t0) / 1000;
}

/** Best (lowest) of `reps` runs of `fn`, in seconds. */
async function best(reps: number, fn: (rep: number) => Promise<number>): Promise<number> {
  let b = Number.POSITIVE_INFINITY;
  for (let i = 0; i < reps; i++) b = Math.min(b, await fn(i));
  return b;
}

/**
 * lungflow against the seed-style Python pipeline (seed_ingest.py: pydicom, HU, sort,
 * scipy.ndimage.zoom to 1 mm, the kdsb17 mask with scipy/scikit-image, crop, .npy) on the
 * same series, wall seconds from process start to exit:
 * (a) one patient of 150 slices of 512 x 512 (--quick: 48 of 128 x 128), `lungflow ingest
 *     --workers 1` vs one Python process (zoom order 3, the seed's default; and order 1, the
 *     trilinear lungflow computes); best of 2 runs each (Python order 3: 1 run full size);
 *     lungflow with the idle threads helping (default --threads: the cores) and without
 *     (--threads 1), runs interleaved, each with its stage seconds; with it the ms from
 *     process start to the first patient handed to the workers (`ready`, from --report) and
 *     the write stage's MB/s with the native zstd and with LUNGFLOW_ZSTD=wasm (one more run);
 * (b) a 12-patient cohort of the same geometry, `lungflow ingest --workers 2` vs 2 Python
 *     processes each taking half the patients; mean stage seconds per patient.
 * Skipped with a line when Debian's python3 or its packages are missing.
 */
async function seedCases(): Promise<void> {
  const missing = pythonMissing();
  if (missing) {
    console.error(`seed-style Python cases skipped: ${missing}`);
    return;
  }
  const geo = quick
    ? { matrix: 128, slices: 48, pixelSpacing: 0.9, sliceSpacing: 2.5 }
    : { matrix: 512, slices: 150, pixelSpacing: 0.7, sliceSpacing: 2.0 };
  const cfg = { matrix: geo.matrix, slices: geo.slices };
  const out = path.join(dir, "seed-out");
  const series = (root: string): [string, string][] =>
    fs
      .readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => [path.join(root, d.name), path.join(out, d.name)]);
  const pushRatio = (name: string, ours: number, py: number, c: Record<string, unknown>) => {
    results.push({ case: name, metric: "lungflow_wall", value: +ours.toFixed(2), unit: "s", ...c });
    results.push({ case: name, metric: "python_wall", value: +py.toFixed(2), unit: "s", ...c });
    results.push({
      case: name,
      metric: "speedup",
      value: +(py / ours).toFixed(2),
      unit: "x",
      ...c,
    });
    console.error(
      `${name}: lungflow ${ours.toFixed(2)} s, Python ${py.toFixed(2)} s: ${(py / ours).toFixed(2)}x`,
    );
  };

  const one = path.join(dir, "seed-one");
  await writeCohort({ out: one, patients: 1, seed: 3, ...geo, groundTruth: false });
  const c1 = { ...cfg, patients: 1 };
  results.push({
    case: "one patient",
    metric: "load_1min",
    value: load("one patient"),
    unit: "",
    ...c1,
  });
  // Helpers on (default threads) and off (--threads 1), interleaved so that a change of the
  // machine's load hits both alike.
  const runs: Awaited<ReturnType<typeof cliOne>>[] = [];
  const alone: Awaited<ReturnType<typeof cliOne>>[] = [];
  for (let k = 0; k < 2; k++) {
    runs.push(await cliOne(one, path.join(dir, `seed-one-${k}.zarr`)));
    alone.push(await cliOne(one, path.join(dir, `seed-one-t1-${k}.zarr`), undefined, 1));
  }
  const fastest = (rs: typeof runs) => rs.reduce((a, b) => (b.wall < a.wall ? b : a));
  const on = fastest(runs);
  const off = fastest(alone);
  const ours1 = on.wall;
  for (const [name, r] of [
    ["one patient, 1 worker, helpers on", on],
    ["one patient, 1 worker, helpers off (--threads 1)", off],
  ] as const) {
    results.push({ case: name, metric: "wall", value: +r.wall.toFixed(2), unit: "s", ...c1 });
    results.push({ case: name, metric: "helped_parts", value: r.helped, unit: "parts", ...c1 });
    for (const [k, ms] of Object.entries(r.stages))
      results.push({
        case: name,
        metric: `stage_${k}`,
        value: +(ms / 1000).toFixed(2),
        unit: "s",
        ...c1,
      });
    console.error(
      `${name}: wall ${r.wall.toFixed(2)} s (${stagesText(r.stages)}; ${r.helped} helped parts)`,
    );
  }
  results.push({
    case: "one patient, 1 worker: helpers on vs off",
    metric: "speedup",
    value: +(off.wall / on.wall).toFixed(2),
    unit: "x",
    ...c1,
  });
  const wasm = await cliOne(one, path.join(dir, "seed-one-wasm.zarr"), {
    ...process.env,
    LUNGFLOW_ZSTD: "wasm",
  });
  const readyMs = Math.min(...runs.map((r) => r.readyMs));
  results.push({
    case: "one patient, 1 worker",
    metric: "ready",
    value: readyMs,
    unit: "ms",
    ...c1,
  });
  const nativeMBps = Math.max(...runs.map((r) => r.writeMBps));
  results.push({
    case: "one patient, 1 worker",
    metric: "write_native_zstd",
    value: +nativeMBps.toFixed(1),
    unit: "MB/s",
    ...c1,
  });
  results.push({
    case: "one patient, 1 worker",
    metric: "write_wasm_zstd",
    value: +wasm.writeMBps.toFixed(1),
    unit: "MB/s",
    ...c1,
  });
  console.error(
    `one patient: ready in ${readyMs} ms; write ${nativeMBps.toFixed(1)} MB/s native zstd, ${wasm.writeMBps.toFixed(1)} MB/s WASM (wall ${ours1.toFixed(2)} vs ${wasm.wall.toFixed(2)} s)`,
  );
  const py3 = await best(quick ? 2 : 1, () => seed(series(one), 1, 3));
  pushRatio("one patient, 1 worker vs seed Python (zoom order 3)", ours1, py3, {
    ...cfg,
    patients: 1,
    order: 3,
  });
  pushRatio("one patient, 1 worker, --threads 1 vs seed Python (zoom order 3)", off.wall, py3, {
    ...cfg,
    patients: 1,
    order: 3,
  });
  const py1 = await best(2, () => seed(series(one), 1, 1));
  pushRatio("one patient, 1 worker vs seed Python (zoom order 1)", ours1, py1, {
    ...cfg,
    patients: 1,
    order: 1,
  });
  pushRatio("one patient, 1 worker, --threads 1 vs seed Python (zoom order 1)", off.wall, py1, {
    ...cfg,
    patients: 1,
    order: 1,
  });

  const n = 12;
  const cohort = path.join(dir, "seed-cohort");
  await writeCohort({ out: cohort, patients: n, seed: 4, ...geo, groundTruth: false });
  const cn = { ...cfg, patients: n };
  results.push({
    case: `${n} patients`,
    metric: "load_1min",
    value: load(`${n} patients`),
    unit: "",
    ...cn,
  });
  const rep = path.join(dir, "seed-cohort.json");
  const ours2 = await cli([
    "ingest",
    cohort,
    "--store",
    path.join(dir, "seed-cohort.zarr"),
    "--workers",
    "2",
    "--report",
    rep,
  ]);
  const s2 = JSON.parse(fs.readFileSync(rep, "utf8")).summary;
  const mean = Object.fromEntries(
    Object.entries(s2.stageMs as Stages).map(([k, ms]) => [k, ms / Math.max(1, s2.ingested)]),
  ) as Stages;
  for (const [k, ms] of Object.entries(mean))
    results.push({
      case: `${n} patients, 2 workers`,
      metric: `stage_${k}`,
      value: +(ms / 1000).toFixed(2),
      unit: "s/patient",
      ...cn,
    });
  console.error(`${n} patients, 2 workers: per patient ${stagesText(mean)}`);
  const py2 = await seed(series(cohort), 2, 3);
  pushRatio(`${n} patients, 2 workers vs 2 seed Python processes (zoom order 3)`, ours2, py2, {
    ...cn,
    order: 3,
  });
}

/**
 * The same small cohort (24 patients, 8 with --quick) through one `lungflow ingest` process
 * (2 worker threads) and through a BullMQ queue on a throwaway redis-server served by 2
 * `lungflow worker` processes (1 thread each), patients/min in one run; then the DICOMweb
 * path (a throwaway Orthanc on loopback) against the folder path, MB/s of DICOM. Skipped
 * with a line when redis-server or Orthanc is missing.
 */
async function servicesCases(): Promise<void> {
  const n = quick ? 8 : 24;
  const root = path.join(dir, "small");
  await writeCohort({
    out: root,
    patients: n,
    seed: 2,
    matrix: 128,
    slices: 48,
    pixelSpacing: 0.9,
    sliceSpacing: 2.5,
    groundTruth: false,
  });
  let bytes = 0;
  for (const f of fs.readdirSync(root, { recursive: true, withFileTypes: true }))
    if (f.isFile() && f.name.endsWith(".dcm"))
      bytes += fs.statSync(path.join(f.parentPath, f.name)).size;
  const cfg = { patients: n, matrix: 128, slices: 48 };
  const folderS = await cli([
    "ingest",
    root,
    "--store",
    path.join(dir, "folder.zarr"),
    "--workers",
    "2",
  ]);
  results.push({
    case: "folder, 1 process (2 threads)",
    metric: "patients_per_min",
    value: +((60 * n) / folderS).toFixed(1),
    unit: "patients/min",
    ...cfg,
  });
  results.push({
    case: "folder, 1 process (2 threads)",
    metric: "dicom_throughput",
    value: +(bytes / 1e6 / folderS).toFixed(1),
    unit: "MB/s",
    ...cfg,
  });
  const noRedis = redisMissing();
  if (noRedis) console.error(`queue case skipped: ${noRedis}`);
  else {
    const redis = await startRedis();
    const store = path.join(dir, "queue.zarr");
    const workers = [0, 1].map(() =>
      spawn(
        process.execPath,
        [BIN, "worker", "--queue", redis.url, "--store", store, "--workers", "1"],
        { stdio: "ignore" },
      ),
    );
    try {
      const s = await cli(["ingest", root, "--store", store, "--queue", redis.url]);
      results.push({
        case: "queue, 2 worker processes",
        metric: "patients_per_min",
        value: +((60 * n) / s).toFixed(1),
        unit: "patients/min",
        ...cfg,
      });
      console.error(
        `folder ${((60 * n) / folderS).toFixed(0)} patients/min, queue with 2 workers ${((60 * n) / s).toFixed(0)}`,
      );
    } finally {
      for (const w of workers) w.kill("SIGTERM");
      await redis.stop();
    }
  }
  const noOrthanc = orthancMissing();
  if (noOrthanc) console.error(`DICOMweb case skipped: ${noOrthanc}`);
  else {
    const orthanc = await startOrthanc();
    try {
      await orthanc.upload(root);
      const s = await cli([
        "ingest",
        `dicomweb+${orthanc.dicomweb}`,
        "--store",
        path.join(dir, "web.zarr"),
        "--workers",
        "2",
      ]);
      results.push({
        case: "DICOMweb (Orthanc on loopback)",
        metric: "dicom_throughput",
        value: +(bytes / 1e6 / s).toFixed(1),
        unit: "MB/s",
        ...cfg,
      });
      console.error(
        `folder ${(bytes / 1e6 / folderS).toFixed(1)} MB/s, DICOMweb ${(bytes / 1e6 / s).toFixed(1)} MB/s`,
      );
    } finally {
      await orthanc.stop();
    }
  }
}
