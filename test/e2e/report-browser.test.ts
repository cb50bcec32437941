// The HTML report as a browser sees it: a small hand-made store and fake training runs go
// through writeReport, then headless Chromium loads the page; every image must decode and
// every table must hold the numbers that went in. A broken image must be caught (the check
// can fail). The screenshot is kept in test/.artifacts/report-fixture.png.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { slicePng, writeReport } from "@lungflow/report";
import { makeVolume, type Vec3 } from "@lungflow/volume";
import {
  ARTIFACTS,
  brokenImages,
  chromiumMissing,
  screenshotReport,
  viewReport,
} from "./report-browser.ts";

const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};
const IDS = ["p1", "p2", "p3"];
const LABELS = [1, 0, 0];
const PREDICTIONS = [0.9, 0.2, 0.7];

/** Three patients (a box of lung in soft tissue), two runs, predictions, labels, timings. */
async function fixture(): Promise<{ dir: string; report: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-report-"));
  const storePath = path.join(dir, "store.zarr");
  const store = await openStore(storePath, { create: true, params: PARAMS });
  const shape: Vec3 = [20, 24, 28];
  const n = shape[0] * shape[1] * shape[2];
  for (const [i, id] of IDS.entries()) {
    const hu = makeVolume(new Int16Array(n).fill(40), shape);
    const mask = makeVolume(new Uint8Array(n), shape);
    for (let z = 3; z < 17; z++)
      for (let y = 4; y < 20; y++)
        for (let x = 3 + i; x < 25; x++) {
          const k = (z * shape[1] + y) * shape[2] + x;
          mask.data[k] = 1;
          hu.data[k] = -850;
        }
    await store.writePatient({
      id,
      hu,
      mask,
      params: PARAMS,
      source: {
        bbox: [
          [0, 20],
          [0, 24],
          [0, 28],
        ],
        sourceSpacing: [1.25, 0.7, 0.7],
        sourceShape: [16, 34, 40],
        otsuThreshold: -400,
        seriesInstanceUid: `1.2.${i}`,
        fileCount: 16,
        sourceHash: `h${i}`,
        lungflowVersion: "0.1.0",
      },
    });
  }
  const runs = path.join(dir, "runs");
  fs.mkdirSync(path.join(runs, "gmcae"), { recursive: true });
  fs.mkdirSync(path.join(runs, "classifier"), { recursive: true });
  fs.writeFileSync(
    path.join(runs, "gmcae/epochs.csv"),
    "epoch,train_loss,val_loss,seconds\n1,2.5,2.7,3\n2,1.9,2.1,3\n3,1.5,1.8,3\n",
  );
  fs.writeFileSync(
    path.join(runs, "classifier/epochs.csv"),
    "epoch,train_loss,val_loss,val_accuracy,val_auc,seconds,best\n1,0.7,0.69,0.5,0.5,1,1\n2,0.6,0.62,0.75,0.9,1,1\n",
  );
  const hu = await store.readVolume("p1", "hu");
  const mask = await store.readVolume("p1", "mask");
  fs.writeFileSync(path.join(runs, "gmcae/reconstruction.png"), slicePng(hu, mask, "axial"));
  fs.writeFileSync(
    path.join(dir, "submission.csv"),
    `id,cancer\n${IDS.map((id, i) => `${id},${PREDICTIONS[i]}`).join("\n")}\n`,
  );
  fs.writeFileSync(
    path.join(dir, "labels.csv"),
    `id,cancer\n${IDS.map((id, i) => `${id},${LABELS[i]}`).join("\n")}\n`,
  );
  fs.writeFileSync(
    path.join(dir, "timings.json"),
    JSON.stringify([
      { stage: "ingest", seconds: 12.5 },
      { stage: "train gmcae", seconds: 30 },
    ]),
  );
  const report = path.join(dir, "report");
  await writeReport({
    store: storePath,
    runs,
    out: report,
    predictions: path.join(dir, "submission.csv"),
    labels: path.join(dir, "labels.csv"),
    timings: path.join(dir, "timings.json"),
    title: "fixture report",
  });
  return { dir, report };
}

test("headless Chromium: every image of the report loads and every table is filled", async (t) => {
  const missing = chromiumMissing();
  if (missing) {
    t.skip(missing);
    return;
  }
  const f = await fixture();
  try {
    const v = await viewReport(f.report);
    assert.equal(v.title, "fixture report");
    for (const s of ["roc", "cohort", "training", "reconstruction", "timings", "patients"])
      assert.ok(v.sections.includes(s), `section ${s} missing: ${v.sections.join(", ")}`);

    // 3 views per patient, 2 loss charts, the ROC and the mosaic; all decoded by the browser
    assert.equal(v.images.length, 3 * 3 + 2 + 1 + 1, JSON.stringify(v.images.map((i) => i.src)));
    assert.deepEqual(brokenImages(v), []);
    for (const id of IDS)
      for (const axis of ["axial", "coronal", "sagittal"])
        assert.ok(
          v.images.some((i) => i.alt === `${id} ${axis}` && i.width > 0),
          `${id} ${axis} image`,
        );
    assert.ok(v.images.some((i) => i.src.endsWith(".svg") && i.alt === "ROC curve"));

    const cohort = v.tables.find((x) => x.section === "cohort");
    assert.ok(cohort, "cohort table");
    assert.deepEqual(cohort.headers, [
      "patient",
      "slices",
      "source spacing (mm)",
      "stored shape",
      "lung volume (ml)",
      "label",
      "prediction",
    ]);
    assert.deepEqual(
      cohort.rows.map((r) => r[0]),
      IDS,
    );
    for (const [i, r] of cohort.rows.entries()) {
      assert.ok(
        r.every((c) => c !== ""),
        `empty cell in row ${r.join(" | ")}`,
      );
      assert.equal(r[1], "16");
      assert.equal(r[3], "20 × 24 × 28");
      assert.equal(r[5], String(LABELS[i]));
      assert.equal(r[6], PREDICTIONS[i].toFixed(3));
    }
    // lung volume: 14 * 16 * (22 - i) voxels of 1 mm^3
    assert.deepEqual(
      cohort.rows.map((r) => r[4]),
      [0, 1, 2].map((i) => ((14 * 16 * (22 - i)) / 1000).toFixed(0)),
    );

    const roc = new Map(v.tables.find((x) => x.section === "roc")?.keyed);
    assert.deepEqual(roc.get("patients scored"), ["3"]);
    assert.deepEqual(roc.get("ROC AUC"), ["1.000"]);
    const timings = new Map(v.tables.find((x) => x.section === "timings")?.keyed);
    assert.deepEqual(timings.get("ingest"), ["12.5 s"]);
    assert.deepEqual(timings.get("train gmcae"), ["30.0 s"]);
    assert.deepEqual(timings.get("total"), ["42.5 s"]);

    const shot = path.join(ARTIFACTS, "report-fixture.png");
    assert.deepEqual(await screenshotReport(f.report, shot), [1200, 3000]);
    t.diagnostic(`screenshot: ${shot}`);

    // The check can fail: a corrupt PNG and a missing SVG are reported as broken.
    fs.writeFileSync(path.join(f.report, "img/p2_axial.png"), "not a png");
    fs.rmSync(path.join(f.report, "img/roc.svg"));
    const bad = await viewReport(f.report);
    assert.deepEqual(
      brokenImages(bad)
        .map((i) => i.src)
        .sort(),
      ["img/p2_axial.png", "img/roc.svg"],
    );
  } finally {
    fs.rmSync(f.dir, { recursive: true, force: true });
  }
});
