import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { readPatient } from "@lungflow/dicom-ingest";
import { segmentLungs } from "@lungflow/lung-segmentation";
import { openStore } from "@lungflow/patch-store";
import { BROKEN_VARIANTS } from "@lungflow/phantom";
import { isLungflowError, resample } from "@lungflow/volume";
import { type IngestEvent, ingest, preprocessingParams, sourceHash } from "../src/index.ts";
import { byType, cohort, patient, runIngest, tmpDir } from "./ingest-helpers.ts";

test("ingest a cohort; re-run skips; new patients added; changed patient replaced; --force", async () => {
  const base = tmpDir();
  const root = path.join(base, "dicom");
  const storePath = path.join(base, "s.zarr");
  const c = await cohort(root, 2, 11);
  const ids = c.patients.map((p) => p.patientId).sort();

  const ev1 = await runIngest({ root, store: storePath, workers: 2, labels: c.labelsCsv });
  assert.deepEqual(byType(ev1, "ingested"), ids);
  assert.deepEqual(byType(ev1, "failed"), []);
  const fin = ev1.at(-1);
  assert.ok(fin?.type === "finished");
  assert.equal(fin.summary.ingested, 2);
  assert.ok(fin.summary.stageMs.segment > 0 && fin.summary.dicomBytes > 0);
  const ing = ev1.find((e) => e.type === "ingested");
  assert.ok(ing?.type === "ingested" && ing.timings.read > 0 && ing.timings.write > 0);
  assert.ok(ev1.some((e) => e.type === "labels" && e.count === 2 && e.changed === 2));

  // The stored arrays equal the stages run by hand.
  const store = await openStore(storePath);
  assert.deepEqual(await store.listPatients(), ids);
  const id0 = ids[0];
  const { volume, meta } = await readPatient(path.join(root, id0));
  const seg = segmentLungs(resample(volume, [1, 1, 1]), { mode: "kdsb17" });
  const hu = await store.readVolume(id0, "hu");
  const mask = await store.readVolume(id0, "mask");
  assert.deepEqual(hu.shape, seg.hu.shape);
  assert.ok(
    Buffer.from(hu.data.buffer).equals(Buffer.from(seg.hu.data.buffer)),
    "stored HU equals the reference",
  );
  assert.ok(
    Buffer.from(mask.data.buffer).equals(Buffer.from(seg.mask.data.buffer)),
    "stored mask equals the reference",
  );
  const a = await store.getPatient(id0);
  assert.ok(a);
  assert.deepEqual(a.bbox, seg.bbox);
  assert.equal(a.otsuThreshold, seg.otsuThreshold);
  assert.equal(a.seriesInstanceUid, meta.seriesInstanceUid);
  assert.equal(a.fileCount, meta.fileCount);
  assert.deepEqual(a.sourceShape, meta.sourceShape);
  assert.equal(a.sourceHash, (await sourceHash(path.join(root, id0))).hash);
  assert.equal(a.label, c.patients.find((p) => p.patientId === id0)?.label);
  assert.deepEqual(hu.origin, seg.hu.origin);
  assert.ok((await store.verify()).ok);

  // Re-run: nothing to do.
  const ev2 = await runIngest({ root, store: storePath, workers: 1 });
  assert.deepEqual(byType(ev2, "skipped"), ids);
  assert.deepEqual(byType(ev2, "ingested"), []);

  // Add a patient: only it is processed.
  await patient(path.join(root, "new-a"), 101);
  const ev3 = await runIngest({ root, store: storePath, workers: 2 });
  assert.deepEqual(byType(ev3, "ingested"), ["new-a"]);
  assert.deepEqual(byType(ev3, "skipped"), ids);

  // Change one patient's files: it alone is re-ingested, replacing the old version.
  const before = await store.getPatient("new-a");
  fs.rmSync(path.join(root, "new-a"), { recursive: true });
  await patient(path.join(root, "new-a"), 103);
  const ev4 = await runIngest({ root, store: storePath, workers: 1 });
  assert.deepEqual(byType(ev4, "ingested"), ["new-a"]);
  const rep = ev4.find((e) => e.type === "ingested");
  assert.ok(rep?.type === "ingested" && rep.replaced);
  await store.refresh();
  const after = await store.getPatient("new-a");
  assert.notEqual(after?.sourceHash, before?.sourceHash);
  // and the label of a re-ingested labelled patient is kept
  const ev5 = await runIngest({ root, store: storePath, workers: 2, force: true });
  assert.equal(byType(ev5, "ingested").length, 3);
  await store.refresh();
  assert.equal(
    (await store.getPatient(id0))?.label,
    c.patients.find((p) => p.patientId === id0)?.label,
  );
  const v = await store.verify();
  assert.ok(v.ok, JSON.stringify(v.problems));
  assert.deepEqual(v.leftovers, []);
});

test("broken patients are reported with their code; the good ones go in", async () => {
  const base = tmpDir();
  const root = path.join(base, "dicom");
  await patient(path.join(root, "good-1"), 1);
  for (const v of BROKEN_VARIANTS) await patient(path.join(root, `bad-${v}`), 2, v);
  fs.mkdirSync(path.join(root, "empty-folder"));
  // What dicom-ingest says about each folder on its own is the reference.
  const expected = new Map<string, string>();
  for (const d of fs.readdirSync(root)) {
    try {
      await readPatient(path.join(root, d));
      expected.set(d, "ok");
    } catch (err) {
      assert.ok(isLungflowError(err), `${d}: ${err}`);
      expected.set(d, err.code);
    }
  }
  const storePath = path.join(base, "s.zarr");
  const ev = await runIngest({ root, store: storePath, workers: 2 });
  const failed = new Map(
    ev.filter((e) => e.type === "failed").map((e) => [(e as { id: string }).id, e]),
  );
  for (const [d, code] of expected) {
    if (code === "ok") assert.ok(byType(ev, "ingested").includes(d), `${d} should be ingested`);
    else {
      const f = failed.get(d);
      assert.ok(f?.type === "failed", `${d} should fail with ${code}`);
      assert.equal(f.error.code, code, d);
      assert.equal(f.error.tag, "DicomError");
      assert.ok(f.error.message.length > 0);
    }
  }
  assert.ok(failed.size >= 4, `several variants fail (${[...failed.keys()]})`);
  assert.ok(failed.has("empty-folder"));
  const fin = ev.at(-1);
  assert.ok(
    fin?.type === "finished" &&
      fin.summary.failed === failed.size &&
      fin.summary.failures.length === failed.size,
  );
  const store = await openStore(storePath);
  assert.deepEqual(
    await store.listPatients(),
    [...expected]
      .filter(([, c]) => c === "ok")
      .map(([d]) => d)
      .sort(),
  );
  assert.ok((await store.verify()).ok);
});

test("run-level errors: bad root, bad labels file, other parameters, locked store", async () => {
  const base = tmpDir();
  const root = path.join(base, "dicom");
  await patient(path.join(root, "p1"), 5);
  const storePath = path.join(base, "s.zarr");
  await assert.rejects(
    runIngest({ root: path.join(base, "nope"), store: storePath }),
    (e) => isLungflowError(e) && e.code === "BAD_ROOT",
  );
  const csv = path.join(base, "labels.csv");
  fs.writeFileSync(csv, "id,cancer\np1,3\n");
  await assert.rejects(
    runIngest({ root, store: storePath, labels: csv }),
    (e) => isLungflowError(e, "LabelsError") && /line 2/.test(e.message),
  );
  assert.equal(fs.existsSync(storePath), false, "nothing done before the labels were checked");
  await assert.rejects(
    runIngest({ root, store: storePath, workers: 0, chunk: 3 }),
    (e) => isLungflowError(e) && e.code === "BAD_OPTIONS",
  );
  await assert.rejects(
    runIngest({ root, store: storePath, workers: 1, threads: 0 }),
    (e) => isLungflowError(e) && e.code === "BAD_OPTIONS" && /threads/.test(e.message),
  );

  const store = await openStore(storePath, { create: true, params: preprocessingParams("kdsb17") });
  await assert.rejects(
    runIngest({ root, store: storePath, maskMode: "improved" }),
    (e) => isLungflowError(e) && e.code === "PARAMS_MISMATCH",
  );
  const lock = await store.lock({ purpose: "another ingest" });
  await assert.rejects(
    runIngest({ root, store: storePath, workers: 0 }),
    (e) => isLungflowError(e) && e.code === "STORE_LOCKED",
  );
  await lock.release();
  const ev = await runIngest({ root, store: storePath, workers: 0 });
  assert.deepEqual(byType(ev, "ingested"), ["p1"]);
});

test("drain lets in-flight patients finish; abort discards them and leaves nothing behind", async () => {
  const base = tmpDir();
  const root = path.join(base, "dicom");
  for (let i = 0; i < 4; i++) await patient(path.join(root, `p${i}`), 20 + i);
  const storePath = path.join(base, "s.zarr");

  const drain = new AbortController();
  const ev: IngestEvent[] = [];
  await new Promise<void>((resolve, reject) =>
    ingest({ root, store: storePath, workers: 1, drain: drain.signal }).subscribe({
      next: (e) => {
        ev.push(e);
        if (e.type === "started") drain.abort();
      },
      error: reject,
      complete: resolve,
    }),
  );
  assert.deepEqual(byType(ev, "ingested"), ["p0"]);
  const fin = ev.at(-1);
  assert.ok(fin?.type === "finished" && fin.summary.notStarted === 3 && fin.summary.stopped);

  const hard = new AbortController();
  const ev2: IngestEvent[] = [];
  await new Promise<void>((resolve, reject) =>
    ingest({ root, store: storePath, workers: 2, signal: hard.signal, force: true }).subscribe({
      next: (e) => {
        ev2.push(e);
        if (e.type === "started" && e.id === "p1") setTimeout(() => hard.abort(), 150);
      },
      error: reject,
      complete: resolve,
    }),
  );
  const fin2 = ev2.at(-1);
  assert.ok(fin2?.type === "finished" && fin2.summary.stopped);
  assert.ok(byType(ev2, "discarded").length >= 1, JSON.stringify(ev2.map((e) => e.type)));
  const store = await openStore(storePath);
  const v = await store.verify();
  assert.ok(v.ok, JSON.stringify(v.problems));
  assert.deepEqual(v.leftovers, []);
  assert.ok((await store.listPatients()).includes("p0"));
});
