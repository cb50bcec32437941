import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { CANCER_DIAMETER_MM, readGroundTruth, writeCohort } from "../src/index.ts";
import { nums, paddingValue, rawPixels, readDir, T } from "./helpers.ts";

const root = mkdtempSync(path.join(tmpdir(), "phantom-cohort-"));
after(() => rmSync(root, { recursive: true, force: true }));

test("writeCohort: Kaggle layout, balanced labels from the anatomy, mixed encodings read back exactly", async () => {
  const out = path.join(root, "c");
  const seen: number[] = [];
  const c = await writeCohort({
    out,
    patients: 6,
    seed: 11,
    slices: 16,
    sliceSpacing: 2.5,
    mixedEncodings: true,
    onPatient: (done) => seen.push(done),
  });
  assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
  const csv = readFileSync(c.labelsCsv, "utf8");
  assert.equal(c.labelsCsv, path.join(out, "stage1_labels.csv"));
  const rows = csv.trim().split("\n");
  assert.equal(rows[0], "id,cancer");
  assert.equal(rows.length, 7);
  const labels = new Map(rows.slice(1).map((r) => [r.split(",")[0], Number(r.split(",")[1])]));
  assert.equal([...labels.values()].filter((v) => v === 1).length, 3);
  assert.deepEqual(readdirSync(out).sort(), [...labels.keys(), "stage1_labels.csv"].sort());
  const encodings = new Set<string>();
  for (const p of c.patients) {
    assert.equal(labels.get(p.patientId), p.label);
    assert.equal(p.label, p.nodules.some((d) => d.diameterMm >= CANCER_DIAMETER_MM) ? 1 : 0);
    const gt = await readGroundTruth(path.join(out, p.patientId, "ground_truth"));
    assert.equal(gt.label, p.label);
    const files = readDir(path.join(out, p.patientId));
    assert.equal(files.length, 16); // readDir skips the ground_truth folder
    const [nz, ny, nx] = gt.shape;
    for (const f of files.filter((f) => f.ds)) {
      const ds = f.ds!;
      encodings.add(
        `${ds.string(T.transferSyntax)} ${ds.uint16(T.pixelRepresentation)} ${ds.string(T.slope)}`,
      );
      assert.equal(ds.string(T.patientId), p.patientId);
      const k = Math.round((nums(ds, T.position)[2] - gt.origin[2]) / gt.spacing[0]);
      const raw = rawPixels(f);
      const slope = Number(ds.string(T.slope));
      const intercept = Number(ds.string(T.intercept));
      const pad = paddingValue(ds);
      for (let i = 0; i < ny * nx; i++) {
        const hu = pad !== undefined && raw[i] === pad ? -1000 : raw[i] * slope + intercept;
        if (hu !== gt.hu[k * ny * nx + i]) assert.fail(`${p.patientId} slice ${k} voxel ${i}`);
      }
      assert.ok(k >= 0 && k < nz);
    }
  }
  assert.ok(encodings.size >= 2, `mixed encodings: ${[...encodings].join(" | ")}`);
  // Same seed, same cohort.
  const again = await writeCohort({
    out: path.join(root, "d"),
    patients: 6,
    seed: 11,
    slices: 16,
    sliceSpacing: 2.5,
    mixedEncodings: true,
  });
  assert.deepEqual(readFileSync(again.labelsCsv, "utf8"), csv);
  assert.deepEqual(
    again.patients.map((p) => p.series.seriesInstanceUid),
    c.patients.map((p) => p.series.seriesInstanceUid),
  );
});

test("writeCohort rejects a bad patient count and lungs too small for the label rule", async () => {
  await assert.rejects(
    writeCohort({ out: path.join(root, "x"), patients: 0, seed: 1 }),
    /patients/,
  );
  // Lungs too small for a 10 mm nodule: refused before anything is written.
  const small = path.join(root, "small");
  await assert.rejects(
    writeCohort({ out: small, patients: 4, seed: 1, matrix: 48, pixelSpacing: 0.5 }),
    /less than the 10 mm/,
  );
  assert.equal(existsSync(small), false);
});
