import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  type Discovery,
  discoverSeries,
  isDicomError,
  readPatient,
  readSeries,
  summarizeFiles,
} from "../src/index.ts";
import { tempDir, writeTestSeries } from "./helpers/series.ts";

const tmp = tempDir();
after(tmp.cleanup);
const root = tmp.dir;
const p = (...s: string[]) => path.join(root, ...s);
let disc: Discovery;

before(async () => {
  // P1: main series, a thicker second series, a localizer, a text file
  writeTestSeries(p("P1"), { nz: 6, patientId: "P1", seriesUid: "1.1" });
  writeTestSeries(p("P1", "thick"), { nz: 3, dz: 2.5, patientId: "P1", seriesUid: "1.2", seed: 4 });
  writeTestSeries(p("P1"), {
    nz: 1,
    patientId: "P1",
    seriesUid: "1.3",
    name: () => "scout.dcm",
    slice: () => ({ imageType: "ORIGINAL\\PRIMARY\\LOCALIZER" }),
  });
  writeFileSync(p("P1", "README.txt"), "hello");
  // P2: nested folders
  writeTestSeries(p("P2", "study", "series"), { nz: 5, patientId: "P2", seriesUid: "2.1" });
  // P3: nothing usable
  mkdirSync(p("P3"));
  writeFileSync(p("P3", "a.bin"), Buffer.alloc(300));
  // P4: no PatientID -> folder name
  writeTestSeries(p("P4"), { nz: 4, patientId: "", seriesUid: "4.1" });
  // P5: secondary capture and MR only
  writeTestSeries(p("P5"), {
    nz: 2,
    patientId: "P5",
    seriesUid: "5.1",
    slice: () => ({ sopClass: "1.2.840.10008.5.1.4.1.1.7" }),
  });
  writeTestSeries(p("P5", "mr"), {
    nz: 2,
    patientId: "P5",
    seriesUid: "5.2",
    slice: () => ({ modality: "MR" }),
  });
  // P6: a sagittal series with more files than the axial one: axial wins
  writeTestSeries(p("P6", "ax"), { nz: 3, patientId: "P6", seriesUid: "6.1" });
  writeTestSeries(p("P6", "sag"), {
    nz: 8,
    patientId: "P6",
    seriesUid: "6.2",
    slice: (z) => ({ iop: [0, 1, 0, 0, 0, -1], ipp: [z, 0, 0] }),
  });
  // P7: two series, same count: thinner spacing wins
  writeTestSeries(p("P7", "a"), { nz: 4, dz: 2, patientId: "P7", seriesUid: "7.1" });
  writeTestSeries(p("P7", "b"), { nz: 4, dz: 1, patientId: "P7", seriesUid: "7.2" });
  disc = await discoverSeries(root);
});

test("groups by patient and series, chooses by the rule, reports the rest", () => {
  assert.equal(disc.fileCount, 6 + 3 + 1 + 1 + 5 + 1 + 4 + 4 + 3 + 8 + 8);
  const byId = Object.fromEntries(disc.patients.map((x) => [x.patientId, x]));
  assert.deepEqual(Object.keys(byId).sort(), ["P1", "P2", "P3", "P4", "P5", "P6", "P7"]);
  assert.equal(byId.P1.chosen?.seriesInstanceUid, "1.1");
  assert.equal(byId.P1.chosen?.files.length, 6);
  assert.equal(byId.P1.others.length, 1);
  assert.match(byId.P1.others[0].reason, /fewer files/);
  assert.deepEqual(byId.P1.skipped.map((s) => s.code).sort(), ["LOCALIZER", "NOT_DICOM"]);
  assert.equal(byId.P2.chosen?.seriesDir, p("P2", "study", "series"));
  assert.equal(byId.P3.chosen, undefined);
  assert.equal(byId.P3.skipped[0].code, "NOT_DICOM");
  assert.equal(byId.P4.chosen?.files.length, 4);
  assert.equal(byId.P4.dir, p("P4"));
  assert.equal(byId.P5.chosen, undefined);
  assert.deepEqual(byId.P5.skipped.map((s) => s.code).sort(), [
    "NOT_CT",
    "NOT_CT",
    "SECONDARY_CAPTURE",
    "SECONDARY_CAPTURE",
  ]);
  assert.equal(byId.P6.chosen?.seriesInstanceUid, "6.1");
  assert.match(byId.P6.others[0].reason, /not axial \(sagittal\)/);
  assert.equal(byId.P7.chosen?.seriesInstanceUid, "7.2");
  assert.match(byId.P7.others[0].reason, /thicker spacing/);
});

test("readPatient reads the chosen series; failures carry codes", async () => {
  const r = await readPatient(p("P1"));
  assert.equal(r.meta.seriesInstanceUid, "1.1");
  assert.deepEqual(
    r.meta.warnings.map((w) => w.code),
    ["SKIPPED_FILES", "OTHER_SERIES"],
  );
  const p3 = await readPatient(p("P3")).catch((e) => e);
  assert.ok(isDicomError(p3, "NOT_DICOM"), String(p3));
  const p5 = await readPatient(p("P5")).catch((e) => e);
  assert.ok(isDicomError(p5, "NO_SERIES"), String(p5));
  const all = await readSeries(root).catch((e) => e);
  assert.ok(isDicomError(all, "MULTIPLE_PATIENTS"), String(all));
  const chosen = disc.patients.find((x) => x.patientId === "P2")!.chosen!;
  const r2 = await readSeries(chosen);
  assert.deepEqual(r2.volume.shape, [5, 12, 10]);
});

test("summarizeFiles streams one row per file with status and header fields", async () => {
  const rows = [];
  for await (const row of summarizeFiles(root)) rows.push(row);
  assert.equal(rows.length, disc.fileCount);
  const scout = rows.find((r) => String(r.path).endsWith("scout.dcm"))!;
  assert.equal(scout.status, "LOCALIZER");
  assert.equal(scout.patient_id, "P1");
  assert.equal(scout.rows, 12);
  const txt = rows.find((r) => String(r.path).endsWith("README.txt"))!;
  assert.equal(txt.status, "NOT_DICOM");
  const ok = rows.filter((r) => r.status === "ok");
  assert.equal(ok.length, 6 + 3 + 5 + 4 + 3 + 8 + 8);
  assert.equal(ok[0].transfer_syntax, "1.2.840.10008.1.2.1");
});

test("ignore leaves paths out of the walk", async () => {
  const d = await discoverSeries(p("P1"), {
    ignore: (f, isDir) => (isDir && f.endsWith("thick")) || f.endsWith(".txt"),
  });
  assert.equal(d.fileCount, 7);
  assert.deepEqual(d.patients[0].others, []);
  assert.deepEqual(
    d.skipped.map((s) => s.code),
    ["LOCALIZER"],
  );
});

test("symlinked files are followed; a missing root is READ_FAILED", async () => {
  const { symlinkSync, readdirSync } = await import("node:fs");
  const dir = p("links");
  mkdirSync(dir);
  for (const f of readdirSync(p("P2", "study", "series")))
    symlinkSync(p("P2", "study", "series", f), path.join(dir, f));
  const { volume } = await readSeries(dir);
  assert.deepEqual(volume.shape, [5, 12, 10]);
  const e = await discoverSeries(p("nope")).catch((x) => x);
  assert.ok(isDicomError(e, "READ_FAILED"), String(e));
  const e2 = await readSeries(p("nope")).catch((x) => x);
  assert.ok(isDicomError(e2, "READ_FAILED"), String(e2));
});
