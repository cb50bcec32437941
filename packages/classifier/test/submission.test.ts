import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  ClassifierError,
  evaluatePredictions,
  parseSubmissionCsv,
  writeSubmission,
} from "../src/index.ts";

test("submission round trip clips probabilities like Kaggle", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "lungflow-sub-"));
  const file = path.join(dir, "submission.csv");
  await writeSubmission(
    [
      { id: "a", cancer: 0 },
      { id: "b", cancer: 1 },
      { id: "c", cancer: 0.25 },
    ],
    file,
  );
  const text = await fs.readFile(file, "utf8");
  assert.equal(text.split("\n")[0], "id,cancer");
  const m = parseSubmissionCsv(text, file);
  assert.equal(m.get("a"), 1e-15);
  assert.equal(m.get("b"), 1 - 1e-15);
  assert.equal(m.get("c"), 0.25);
  await assert.rejects(
    writeSubmission(
      [
        { id: "a", cancer: 0.1 },
        { id: "a", cancer: 0.2 },
      ],
      file,
    ),
    /duplicate/,
  );
  await assert.rejects(writeSubmission([{ id: "a", cancer: Number.NaN }], file), /NaN/);
});

test("bad submission files list every problem with its line", () => {
  const text = "id,cancer\na,0.5\nb,1.5\na,0.2\nc,\nd,x,y\n";
  assert.throws(
    () => parseSubmissionCsv(text, "s.csv"),
    (e: unknown) =>
      e instanceof ClassifierError &&
      e.code === "BAD_PREDICTIONS" &&
      /4 problem/.test(e.message) &&
      /line 3/.test(e.message) &&
      /line 4: duplicate id a/.test(e.message),
  );
  assert.throws(() => parseSubmissionCsv("patient,p\n", "s.csv"), /header/);
});

test("evaluation scores the intersection and names what is missing", () => {
  const labels = new Map([
    ["a", 1],
    ["b", 0],
    ["c", 1],
    ["d", 0],
  ]);
  const preds = new Map([
    ["a", 0.9],
    ["b", 0.2],
    ["c", 0.4],
    ["x", 0.5],
  ]);
  const ev = evaluatePredictions(labels, preds);
  assert.deepEqual(ev.missing, ["d"]);
  assert.deepEqual(ev.unlabelled, ["x"]);
  assert.equal(ev.report.n, 3);
  assert.equal(ev.report.auc, 1);
  assert.deepEqual(ev.report.confusion, { tp: 1, fn: 1, fp: 0, tn: 1 });
  assert.throws(() => evaluatePredictions(labels, new Map([["z", 0.1]])), /no patient/);
});
