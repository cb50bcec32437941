import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { makeVolume, type Vec3 } from "@lungflow/volume";
import { PNG } from "pngjs";
import { writeReport } from "../src/index.ts";

const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};

async function fixture() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lungflow-report-"));
  const storePath = path.join(dir, "store.zarr");
  const store = await openStore(storePath, { create: true, params: PARAMS });
  const shape: Vec3 = [10, 12, 14];
  const n = shape[0] * shape[1] * shape[2];
  for (const [i, id] of ["p1", "p2", "p3"].entries()) {
    const hu = makeVolume(new Int16Array(n).fill(40), shape);
    const mask = makeVolume(new Uint8Array(n), shape);
    for (let z = 2; z < 8; z++)
      for (let y = 3; y < 9; y++)
        for (let x = 2 + i; x < 12; x++) {
          mask.data[(z * 12 + y) * 14 + x] = 1;
          hu.data[(z * 12 + y) * 14 + x] = -850;
        }
    await store.writePatient({
      id,
      hu,
      mask,
      params: PARAMS,
      source: {
        bbox: [
          [0, 10],
          [0, 12],
          [0, 14],
        ],
        sourceSpacing: [1.25, 0.7, 0.7],
        sourceShape: [8, 17, 20],
        otsuThreshold: -400,
        seriesInstanceUid: `1.2.${i}`,
        fileCount: 8,
        sourceHash: `h${i}`,
        lungflowVersion: "0.1.0",
      },
    });
  }
  const runs = path.join(dir, "runs");
  await fs.mkdir(path.join(runs, "gmcae"), { recursive: true });
  await fs.mkdir(path.join(runs, "classifier"), { recursive: true });
  await fs.writeFile(
    path.join(runs, "gmcae/epochs.csv"),
    "epoch,train_loss,val_loss,seconds\n1,2.5,2.7,3\n2,1.9,2.1,3\n3,1.5,1.8,3\n",
  );
  await fs.writeFile(
    path.join(runs, "classifier/epochs.csv"),
    "epoch,train_loss,val_loss,val_accuracy,val_auc,seconds,best\n1,0.7,0.69,0.5,0.5,1,1\n2,0.6,0.62,0.75,0.9,1,1\n",
  );
  const mosaic = new PNG({ width: 4, height: 2 });
  await fs.writeFile(path.join(runs, "gmcae/reconstruction.png"), PNG.sync.write(mosaic));
  await fs.writeFile(path.join(dir, "submission.csv"), "id,cancer\np1,0.9\np2,0.2\np3,0.7\n");
  await fs.writeFile(path.join(dir, "labels.csv"), "id,cancer\np1,1\np2,0\np3,0\n");
  await fs.writeFile(
    path.join(dir, "timings.json"),
    JSON.stringify([
      { stage: "ingest", seconds: 12.5 },
      { stage: "train gmcae", seconds: 30 },
    ]),
  );
  return { dir, storePath, runs };
}

test("the report holds the cohort table, slice images, loss curves, mosaic, ROC and timings", async () => {
  const f = await fixture();
  const out = path.join(f.dir, "report");
  const res = await writeReport({
    store: f.storePath,
    runs: f.runs,
    out,
    predictions: path.join(f.dir, "submission.csv"),
    labels: path.join(f.dir, "labels.csv"),
    timings: path.join(f.dir, "timings.json"),
  });
  assert.equal(res.patients, 3);
  assert.equal(res.images, 9);
  assert.equal(res.auc, 1);
  const html = await fs.readFile(res.file, "utf8");
  for (const id of ["p1", "p2", "p3"]) assert.match(html, new RegExp(`<td>${id}</td>`));
  assert.match(html, /<td id="auc">1\.000<\/td>/);
  assert.match(html, /train gmcae/);
  // every referenced image exists and is a real PNG or SVG
  const srcs = [...html.matchAll(/<img src="([^"]+)"/g)].map((m) => m[1]);
  assert.ok(srcs.length >= 9 + 2 + 1 + 1, `images: ${srcs.length}`);
  for (const s of srcs) {
    const buf = await fs.readFile(path.join(out, s));
    if (s.endsWith(".png")) assert.ok(PNG.sync.read(buf).width > 0);
    else assert.match(buf.toString("utf8"), /^<svg/);
  }
  // lung volume from the mask: 6*6*10, 6*6*9, 6*6*8 voxels of 1 mm^3
  assert.match(html, /<td>0<\/td><td>1<\/td><td>0\.900<\/td>/);
});

test("a report without predictions or runs still renders the cohort", async () => {
  const f = await fixture();
  const out = path.join(f.dir, "r2");
  const res = await writeReport({
    store: f.storePath,
    runs: path.join(f.dir, "nowhere"),
    out,
    maxImages: 1,
  });
  assert.equal(res.images, 3);
  assert.equal(res.auc, undefined);
  const html = await fs.readFile(res.file, "utf8");
  assert.match(html, /No runs with epochs\.csv found/);
});
