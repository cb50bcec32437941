import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { isLungflowError, type Vec3 } from "@lungflow/volume";
import { type LabelsError, openStore, stratifiedSplit } from "../src/index.ts";
import { PARAMS, source, tmpDir, volumes } from "./helpers.ts";

async function storeWith(ids: string[]) {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [2, 2, 2];
  for (const id of ids)
    await store.writePatient({ id, ...volumes(shape), source: source(shape), params: PARAMS });
  return { dir, store };
}

test("labels: every problem reported with its line, nothing applied", async () => {
  const { dir, store } = await storeWith(["a", "b", "c"]);
  const bad = "id,cancer\na,1\nb,2\na,0\nzz,1\nc\n";
  await assert.rejects(store.importLabels(bad, { file: "labels.csv" }), (e) => {
    assert.ok(isLungflowError(e, "LabelsError"));
    const probs = (e as LabelsError).context.problems;
    assert.deepEqual(
      probs.map((p) => p.line),
      [3, 4, 5, 6],
    );
    assert.match(probs[0].message, /0 or 1/);
    assert.match(probs[1].message, /duplicate id a \(first on line 2\)/);
    assert.match(probs[2].message, /unknown patient id zz/);
    assert.match(probs[3].message, /2 fields/);
    assert.match(e.message, /labels.csv/);
    return true;
  });
  assert.deepEqual(store.rootAttrs.labels, {});
  assert.equal((await store.getPatient("a"))?.label, undefined);
  await assert.rejects(
    store.importLabels("patient,label\na,1\n"),
    (e) => isLungflowError(e) && /header/.test(e.message),
  );

  const r = await store.importLabels("id,cancer\r\na,1\r\nb,0\r\n");
  assert.deepEqual(r, { count: 2, changed: 2, ignored: [] });
  assert.equal((await store.getPatient("a"))?.label, 1);
  assert.equal((await store.getPatient("b"))?.label, 0);
  assert.equal((await store.getPatient("c"))?.label, undefined);
  // mirrored in the patient group attributes, and kept in a reopened store
  const g = JSON.parse(fs.readFileSync(path.join(dir, "patients/a/zarr.json"), "utf8"));
  assert.equal(g.attributes.label, 1);
  assert.equal((await (await openStore(dir)).getPatient("b"))?.label, 0);
  // a re-ingested patient keeps its label
  const shape: Vec3 = [2, 2, 2];
  await store.writePatient({
    id: "a",
    ...volumes(shape, 5),
    source: source(shape, "h2"),
    params: PARAMS,
  });
  assert.equal((await store.getPatient("a"))?.label, 1);
  const ig = await store.importLabels("id,cancer\nc,1\nghost,0\n", { unknown: "ignore" });
  assert.deepEqual(ig.ignored, ["ghost"]);
  assert.equal((await store.getPatient("c"))?.label, 1);
});

test("split: stratified, deterministic by seed, unlabelled patients are the test set", async () => {
  const ids = Array.from({ length: 103 }, (_, i) => `p${String(i).padStart(3, "0")}`);
  const labels = new Map<string, 0 | 1>();
  ids.forEach((id, i) => {
    if (i < 90) labels.set(id, i % 4 === 0 ? 1 : 0); // 23 positives, 67 negatives, 13 unlabelled
  });
  const s1 = stratifiedSplit(ids, labels, { seed: 42, validationFraction: 0.2 });
  const s2 = stratifiedSplit([...ids].reverse(), labels, { seed: 42, validationFraction: 0.2 });
  assert.deepEqual(s1, s2);
  const s3 = stratifiedSplit(ids, labels, { seed: 43, validationFraction: 0.2 });
  assert.notDeepEqual(s1.validation, s3.validation);
  assert.equal(s1.test.length, 13);
  assert.ok(s1.test.every((id) => !labels.has(id)));
  const pos = (xs: string[]) => xs.filter((id) => labels.get(id) === 1).length;
  assert.equal(pos(s1.validation), Math.round(23 * 0.2));
  assert.equal(s1.validation.length - pos(s1.validation), Math.round(67 * 0.2));
  assert.equal(s1.train.length + s1.validation.length, 90);
  assert.equal(new Set([...s1.train, ...s1.validation, ...s1.test]).size, 103);
  assert.throws(
    () => stratifiedSplit(ids, labels, { seed: 1, validationFraction: 1 }),
    (e) => isLungflowError(e) && e.code === "INVALID_ARGUMENT",
  );
  assert.throws(
    () => stratifiedSplit(ids, new Map(), { seed: 1, validationFraction: 0.2 }),
    (e) => isLungflowError(e) && e.code === "SPLIT_INVALID",
  );

  const { dir, store } = await storeWith(["a", "b", "c", "d", "e", "f"]);
  await store.importLabels("id,cancer\na,1\nb,0\nc,0\nd,0\ne,1\n");
  const sp = await store.makeSplit({ seed: 7 });
  assert.deepEqual(sp.test, ["f"]);
  assert.equal(sp.validation.length, Math.round(2 * 0.2) + Math.round(3 * 0.2));
  assert.deepEqual((await openStore(dir)).split?.train, sp.train);
});
