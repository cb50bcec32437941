import assert from "node:assert/strict";
import path from "node:path";
import { after, describe, test } from "node:test";
import {
  type BrokenVariant,
  makePhantom,
  type WriteSeriesOptions,
  writeSeries,
} from "@lungflow/phantom";
import {
  type DicomErrorCode,
  discoverSeries,
  isDicomError,
  readPatient,
  readSeries,
} from "../src/index.ts";
import { pydicomHu, pydicomSkip } from "./helpers/pydicom.ts";
import { tempDir } from "./helpers/series.ts";

const tmp = tempDir("dicom-ingest-phantom-");
after(tmp.cleanup);
const phantom = makePhantom({ seed: 5, slices: 16, matrix: 64, nodules: 2 });
const phantom2 = makePhantom({
  seed: 6,
  slices: 16,
  matrix: 64,
  huStep: 2,
  sliceSpacing: 2.5,
  pixelSpacing: 0.8,
});

function sameHu(a: Int16Array, b: Int16Array): void {
  assert.equal(a.length, b.length);
  let diff = 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
  assert.equal(diff, 0, `${diff} voxels differ from the ground truth`);
}

describe("every phantom encoding gives the ground-truth HU exactly", () => {
  const encodings: WriteSeriesOptions[] = [];
  for (const transferSyntax of ["explicit", "implicit"] as const)
    for (const pixels of ["int16", "uint16"] as const)
      for (const rescaleSlope of [1, 2] as const)
        for (const padding of [true, false])
          encodings.push({
            transferSyntax,
            pixels,
            rescaleSlope,
            padding,
            fileNames: "shuffled",
            instanceOrder: "shuffled",
          });
  for (const enc of encodings) {
    const name = `${enc.transferSyntax} ${enc.pixels} slope ${enc.rescaleSlope}${enc.padding ? " padding" : ""}`;
    test(name, async () => {
      const p = enc.rescaleSlope === 2 ? phantom2 : phantom;
      const w = await writeSeries(p, path.join(tmp.dir, name.replace(/\W+/g, "_")), {
        ...enc,
        groundTruth: false,
      });
      const { volume, meta } = await readSeries(w.dir);
      assert.deepEqual(volume.shape, p.shape);
      sameHu(volume.data, p.hu);
      for (let i = 0; i < 3; i++) {
        assert.ok(
          Math.abs(volume.spacing[i] - p.spacing[i]) < 1e-9,
          `spacing ${volume.spacing} vs ${p.spacing}`,
        );
        assert.ok(
          Math.abs(volume.origin[i] - p.origin[i]) < 1e-9,
          `origin ${volume.origin} vs ${p.origin}`,
        );
      }
      assert.equal(meta.patientId, p.patientId);
      assert.equal(meta.seriesInstanceUid, w.seriesInstanceUid);
      assert.equal(meta.studyInstanceUid, w.studyInstanceUid);
      assert.equal(meta.fileCount, p.shape[0]);
      assert.deepEqual(meta.warnings, []);
    });
  }
});

test("phantom files: HU equal pydicom + the HU rule", { skip: pydicomSkip }, async () => {
  const dirs: string[] = [];
  for (const [i, enc] of (
    [
      { pixels: "uint16", transferSyntax: "implicit" },
      { pixels: "int16", rescaleSlope: 2 },
    ] as WriteSeriesOptions[]
  ).entries()) {
    const w = await writeSeries(
      enc.rescaleSlope === 2 ? phantom2 : phantom,
      path.join(tmp.dir, `py${i}`),
      { ...enc, groundTruth: false },
    );
    dirs.push(w.dir);
  }
  const refs = pydicomHu(dirs);
  for (let i = 0; i < dirs.length; i++) {
    const { volume } = await readSeries(dirs[i]);
    sameHu(volume.data, refs[i].hu);
  }
});

describe("every broken phantom variant gives its error or the documented recovery", () => {
  const expectError: Partial<Record<BrokenVariant, DicomErrorCode>> = {
    "missing-slice": "MISSING_SLICES",
    "truncated-file": "TRUNCATED",
    "gantry-tilt": "GANTRY_TILT",
    sagittal: "NOT_AXIAL",
  };
  const expectWarning: Partial<Record<BrokenVariant, string>> = {
    "overlapping-acquisitions": "OVERLAPPING_ACQUISITIONS",
    localizer: "SKIPPED_FILES",
    "second-series": "OTHER_SERIES",
    "duplicate-slice": "DUPLICATE_SLICE_DROPPED",
    "non-dicom-file": "SKIPPED_FILES",
  };
  for (const variant of Object.keys({ ...expectError, ...expectWarning }) as BrokenVariant[]) {
    test(variant, async () => {
      const w = await writeSeries(phantom, path.join(tmp.dir, variant), {
        variant,
        groundTruth: false,
      });
      const code = expectError[variant];
      if (code) {
        const e = await readPatient(w.dir).catch((x) => x);
        assert.ok(isDicomError(e, code), `expected ${code}, got ${e?.code ?? e}: ${e?.message}`);
        assert.equal(e.context.seriesDir, w.dir);
        if (variant === "truncated-file")
          assert.equal(e.context.file, w.files.find((f) => f.truncated)?.path);
        if (variant === "missing-slice") assert.equal(e.context.missing, 1);
        return;
      }
      const { volume, meta, patient } = await readPatient(w.dir);
      sameHu(volume.data, phantom.hu);
      const warning = meta.warnings.find((x) => x.code === expectWarning[variant]);
      assert.ok(warning, `no ${expectWarning[variant]} in ${JSON.stringify(meta.warnings)}`);
      const extra = w.files
        .filter((f) => f.role !== "slice")
        .map((f) => f.path)
        .sort();
      if (variant === "localizer")
        assert.deepEqual(
          patient.skipped.map((s) => s.code),
          ["LOCALIZER"],
        );
      if (variant === "non-dicom-file")
        assert.deepEqual(
          patient.skipped.map((s) => s.code),
          ["NOT_DICOM"],
        );
      if (variant === "second-series")
        assert.deepEqual([...patient.others[0].series.files].sort(), extra);
      if (variant === "overlapping-acquisitions") {
        assert.deepEqual([...warning.files!].sort(), extra);
        assert.deepEqual(meta.acquisitionNumbers, [1]);
      }
      if (variant === "duplicate-slice") assert.deepEqual(warning.files, extra);
    });
  }
});

test("a cohort folder: one chosen series per patient, broken ones fail alone", async () => {
  const root = path.join(tmp.dir, "cohort");
  await writeSeries(phantom, path.join(root, "a"), { groundTruth: false });
  await writeSeries(phantom2, path.join(root, "b"), { variant: "gantry-tilt", groundTruth: false });
  const disc = await discoverSeries(root);
  assert.equal(disc.patients.length, 2);
  const results = await Promise.all(
    disc.patients.map((p) =>
      readSeries(p.chosen!).then(
        (r) => r.volume.shape.join("x"),
        (e) => (isDicomError(e) ? e.code : "?"),
      ),
    ),
  );
  assert.deepEqual(results.sort(), ["16x64x64", "GANTRY_TILT"]);
});

test("a written cohort with mixed encodings: every patient read exactly (ground truth folders ignored)", async () => {
  const { writeCohort, readGroundTruth } = await import("@lungflow/phantom");
  const out = path.join(tmp.dir, "mixed-cohort");
  const cohort = await writeCohort({
    out,
    patients: 4,
    seed: 9,
    slices: 24,
    matrix: 64,
    sliceSpacing: 2.5,
    mixedEncodings: true,
  });
  const disc = await discoverSeries(out, {
    ignore: (f, isDir) => isDir && path.basename(f) === "ground_truth",
  });
  assert.deepEqual(
    disc.skipped.map((s) => path.basename(s.file)),
    ["stage1_labels.csv"],
  );
  assert.deepEqual(
    disc.patients.map((p) => p.patientId),
    cohort.patients.map((p) => p.patientId).sort(),
  );
  for (const cp of cohort.patients) {
    const { volume, meta } = await readPatient(path.join(out, cp.patientId), {
      ignore: (f, isDir) => isDir && path.basename(f) === "ground_truth",
    });
    const truth = await readGroundTruth(cp.series.groundTruthDir!);
    sameHu(volume.data, truth.hu);
    assert.deepEqual(meta.warnings, [], cp.patientId);
  }
});
