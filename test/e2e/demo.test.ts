// `lungflow demo` end to end at a reduced size (8 patients, 1 GMCAE epoch, 2 classifier
// epochs, 1 worker): every stage's output exists and is sound, the report renders in headless
// Chromium, a second run reuses everything (no training) and --fresh starts over.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { openStore } from "@lungflow/patch-store";
import {
  ARTIFACTS,
  brokenImages,
  chromiumMissing,
  screenshotReport,
  viewReport,
} from "./report-browser.ts";

const BIN = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));
const PATIENTS = 8;
const DEMO_ARGS = [
  "--patients",
  String(PATIENTS),
  "--seed",
  "1",
  "--gmcae-epochs",
  "1",
  "--classifier-epochs",
  "2",
  "--workers",
  "1",
];

interface Run {
  code: number | null;
  out: string;
  err: string;
  seconds: number;
}

/**
 * Runs the CLI. With `stopAt`, the process is killed (SIGKILL) as soon as its stdout matches,
 * and `atStop` runs while it is stopped.
 */
function lungflow(
  args: string[],
  opts: { stopAt?: RegExp; timeoutMs?: number } = {},
): Promise<Run & { stopped: boolean }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    });
    let out = "";
    let err = "";
    let stopped = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`lungflow ${args.join(" ")} timed out\n${out.slice(-3000)}\n${err}`));
    }, opts.timeoutMs ?? 600_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      if (opts.stopAt && !stopped && opts.stopAt.test(out)) {
        stopped = true;
        child.kill("SIGKILL");
      }
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, err, seconds: (performance.now() - t0) / 1000, stopped });
    });
  });
}

function tail(r: Run): string {
  return `\n--- stdout (tail)\n${r.out.slice(-4000)}\n--- stderr (tail)\n${r.err.slice(-3000)}`;
}

function readCsv(file: string): Map<string, string> {
  const lines = fs.readFileSync(file, "utf8").trim().split(/\r?\n/);
  assert.equal(lines[0], "id,cancer", `${file} header`);
  return new Map(lines.slice(1).map((l) => l.split(",") as [string, string]));
}

/** mtime (ms) of every file under dir, keyed by relative path. */
function mtimes(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    m.set(path.relative(dir, p), fs.statSync(p).mtimeMs);
  }
  return m;
}

const skip = fs.existsSync(BIN) ? undefined : `CLI not built (${BIN}); run pnpm build`;
let base = "";
let dir = "";
let first: Run | undefined;

before(() => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-demo-"));
  dir = path.join(base, "demo");
});
after(() => {
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

test("lungflow demo (reduced) runs every stage and writes sound outputs", { skip }, async () => {
  const r = await lungflow(["demo", "--dir", dir, ...DEMO_ARGS]);
  first = r;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  fs.writeFileSync(path.join(ARTIFACTS, "demo-first-run.log"), `${r.out}\n--- stderr\n${r.err}`);
  assert.equal(r.code, 0, `demo exit code ${r.code}${tail(r)}`);
  for (const s of [
    "synthetic cohort",
    "ingest",
    "labels and split",
    "train gmcae",
    "reconstruct",
    "train classifier",
    "predict",
    "evaluate",
    "report",
  ])
    assert.match(
      r.out,
      new RegExp(`^== ${s}: \\d+\\.\\d s$`, "m"),
      `stage "${s}" timing line${tail(r)}`,
    );
  assert.doesNotMatch(r.out, /reusing/);
  assert.match(r.out, /^epoch 1\/1: /m, "one GMCAE epoch");
  assert.match(r.out, /^epoch 2\/2: /m, "two classifier epochs");

  // the store: every patient, intact
  const store = path.join(dir, "store.zarr");
  const verify = await lungflow(["store", "verify", store]);
  assert.equal(verify.code, 0, `store verify${tail(verify)}`);
  assert.match(verify.out, new RegExp(`OK: ${PATIENTS} patient\\(s\\).* 0 problem`));

  // labels: the held-out patients are unlabelled in the store (its test split) and are
  // exactly the ones predicted and scored
  const all = readCsv(path.join(dir, "dicom", "stage1_labels.csv"));
  const trainLabels = readCsv(path.join(dir, "train_labels.csv"));
  assert.equal(all.size, PATIENTS);
  const held = [...all.keys()].filter((id) => !trainLabels.has(id)).sort();
  const s = await openStore(store);
  assert.deepEqual((await s.listPatients()).sort(), [...all.keys()].sort());
  const split = s.split;
  assert.ok(split, "the store has a split");
  assert.deepEqual([...split.test].sort(), held);
  assert.equal(split.train.length + split.validation.length, trainLabels.size);
  for (const id of held) assert.equal((await s.getPatient(id))?.label, undefined, id);
  // stratified: each class keeps round(n * 0.33) held-out patients
  for (const cls of ["0", "1"]) {
    const n = [...all.values()].filter((y) => y === cls).length;
    assert.equal(
      held.filter((id) => all.get(id) === cls).length,
      Math.round(n * 0.33),
      `held-out of class ${cls}`,
    );
  }

  // checkpoints of both models
  for (const run of ["gmcae", "classifier"]) {
    const best = path.join(dir, "runs", run, "best");
    const model = JSON.parse(fs.readFileSync(path.join(best, "model.json"), "utf8"));
    assert.ok(model.modelTopology || model.weightsManifest, `${run}/best/model.json`);
    assert.ok(
      fs.readdirSync(best).some((f) => f.endsWith(".bin")),
      `${run}/best has weights: ${fs.readdirSync(best).join(", ")}`,
    );
    const epochs = fs.readFileSync(path.join(dir, "runs", run, "epochs.csv"), "utf8").trim();
    assert.equal(epochs.split("\n").length - 1, run === "gmcae" ? 1 : 2, `${run} epochs.csv`);
  }
  assert.ok(fs.statSync(path.join(dir, "runs/gmcae/reconstruction.png")).size > 100);

  // predictions: one probability per held-out patient
  const sub = readCsv(path.join(dir, "submission.csv"));
  assert.deepEqual([...sub.keys()].sort(), held);
  for (const [id, p] of sub) {
    const v = Number(p);
    assert.ok(v >= 0 && v <= 1, `${id}: ${p}`);
  }

  // evaluation on the held-out labels, the same AUC printed and in the report
  const ev = JSON.parse(fs.readFileSync(path.join(dir, "evaluation.json"), "utf8"));
  assert.equal(ev.n, held.length);
  assert.equal(ev.positives, held.filter((id) => all.get(id) === "1").length);
  assert.deepEqual(ev.missing, []);
  assert.ok(ev.auc >= 0 && ev.auc <= 1, `auc ${ev.auc}`);
  assert.match(r.out, new RegExp(`held-out ROC AUC ${ev.auc.toFixed(3)}; report `));
  const html = fs.readFileSync(path.join(dir, "report", "index.html"), "utf8");
  assert.match(html, new RegExp(`<td id="auc">${ev.auc.toFixed(3)}</td>`));
  for (const id of all.keys()) assert.match(html, new RegExp(`<td>${id}</td>`));
  const timings = JSON.parse(fs.readFileSync(path.join(dir, "timings.json"), "utf8"));
  assert.deepEqual(
    timings.map((t: { stage: string }) => t.stage),
    [
      "synthetic cohort",
      "ingest",
      "labels and split",
      "train gmcae",
      "reconstruct",
      "train classifier",
      "predict",
      "evaluate",
    ],
  );
});

test("the demo's report renders in headless Chromium", { skip }, async (t) => {
  const missing = chromiumMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  assert.ok(first?.code === 0, "needs the demo run above");
  const report = path.join(dir, "report");
  const v = await viewReport(report);
  assert.equal(v.title, "lungflow demo");
  for (const s of ["roc", "cohort", "training", "reconstruction", "timings", "patients"])
    assert.ok(v.sections.includes(s), `section ${s}: ${v.sections.join(", ")}`);
  assert.equal(v.images.length, PATIENTS * 3 + 2 + 1 + 1);
  assert.deepEqual(brokenImages(v), []);
  const cohort = v.tables.find((x) => x.section === "cohort");
  assert.equal(cohort?.rows.length, PATIENTS);
  const sub = readCsv(path.join(dir, "submission.csv"));
  const all = readCsv(path.join(dir, "dicom", "stage1_labels.csv"));
  for (const r of cohort?.rows ?? []) {
    assert.ok(
      r.slice(0, 6).every((c) => c !== ""),
      `empty cell: ${r.join(" | ")}`,
    );
    assert.equal(r[1], "56", "slices");
    assert.ok(Number(r[4]) > 0, `lung volume ${r[4]}`);
    assert.equal(r[5], all.get(r[0]), `label of ${r[0]}`);
    assert.equal(
      r[6],
      sub.has(r[0]) ? Number(sub.get(r[0])).toFixed(3) : "",
      `prediction of ${r[0]}`,
    );
  }
  const roc = new Map(v.tables.find((x) => x.section === "roc")?.keyed);
  assert.deepEqual(roc.get("patients scored"), [String(sub.size)]);
  const timings = new Map(v.tables.find((x) => x.section === "timings")?.keyed);
  for (const s of ["ingest", "train gmcae", "train classifier", "total"])
    assert.match(timings.get(s)?.[0] ?? "", /^\d+\.\d s$/, `timing of ${s}`);
  const shot = path.join(ARTIFACTS, "demo-report.png");
  assert.deepEqual(await screenshotReport(report, shot), [1200, 3000]);
  t.diagnostic(`screenshot: ${shot}`);
});

test("a second demo run reuses everything: no training, much faster", { skip }, async () => {
  assert.ok(first?.code === 0, "needs the demo run above");
  const models = path.join(dir, "runs");
  const patients = path.join(dir, "store.zarr", "patients");
  const before = new Map([...mtimes(models), ...mtimes(patients)]);
  const r = await lungflow(["demo", "--dir", dir, ...DEMO_ARGS]);
  assert.equal(r.code, 0, tail(r));
  for (const s of ["synthetic cohort", "train gmcae", "reconstruct", "train classifier"])
    assert.match(r.out, new RegExp(`^== ${s}: reusing `, "m"), s);
  assert.doesNotMatch(r.out, /^epoch \d/m, "nothing trained");
  assert.match(r.out, new RegExp(`0 ingested .* ${PATIENTS} unchanged, 0 failed`));
  // no checkpoint, log or stored patient rewritten (only the run's own new outputs change)
  const now = new Map([...mtimes(models), ...mtimes(patients)]);
  assert.deepEqual(now, before);
  assert.ok(
    r.seconds < (first?.seconds ?? 0) / 2,
    `second run ${r.seconds.toFixed(1)} s vs first ${first?.seconds.toFixed(1)} s`,
  );
  // the report keeps the earlier run's training times, marked as such
  const timings = JSON.parse(fs.readFileSync(path.join(dir, "timings.json"), "utf8"));
  const stages = timings.map((t: { stage: string }) => t.stage);
  assert.ok(stages.includes("train gmcae (earlier run)"), stages.join(", "));
  assert.ok(stages.includes("train classifier (earlier run)"), stages.join(", "));
  assert.ok(fs.existsSync(path.join(dir, "report", "index.html")));
});

test("demo --fresh deletes the working folder and starts over", { skip }, async () => {
  assert.ok(first?.code === 0, "needs the demo run above");
  const sentinel = path.join(dir, "keep-me.txt");
  fs.writeFileSync(sentinel, "left by the test");
  // Stop the run as soon as it starts generating the cohort again (that only happens when the
  // cohort's labels are gone): by then the folder has been wiped.
  const r = await lungflow(["demo", "--dir", dir, ...DEMO_ARGS, "--fresh"], {
    stopAt: /^== synthetic cohort$/m,
    timeoutMs: 120_000,
  });
  assert.ok(r.stopped, `the fresh run did not regenerate the cohort${tail(r)}`);
  for (const p of [
    sentinel,
    "store.zarr",
    "runs/gmcae",
    "runs/classifier",
    "submission.csv",
    "evaluation.json",
    "report",
  ])
    assert.ok(!fs.existsSync(path.resolve(dir, p)), `${p} survived --fresh`);
  assert.doesNotMatch(r.out, /reusing/);
});
