import assert from "node:assert/strict";
import { test } from "node:test";
import {
  accuracy,
  binaryReport,
  confusionMatrix,
  logLoss,
  rocAuc,
  rocCurve,
} from "../src/index.ts";

function bruteAuc(labels: number[], probs: number[]): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < labels.length; i++)
    for (let j = 0; j < labels.length; j++)
      if (labels[i] === 1 && labels[j] === 0) {
        den++;
        num += probs[i] > probs[j] ? 1 : probs[i] === probs[j] ? 0.5 : 0;
      }
  return num / den;
}

test("AUC equals the pairwise definition, ties included", () => {
  let s = 12345;
  const r = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  for (let trial = 0; trial < 50; trial++) {
    const n = 5 + Math.floor(r() * 40);
    const labels = Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0));
    labels[0] = 1;
    labels[1] = 0;
    const probs = Array.from({ length: n }, () => Math.round(r() * 10) / 10); // many ties
    assert.ok(Math.abs(rocAuc(labels, probs) - bruteAuc(labels, probs)) < 1e-12);
  }
  assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
  assert.equal(rocAuc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0);
  assert.ok(Number.isNaN(rocAuc([1, 1], [0.2, 0.3])));
});

test("log loss clips like Kaggle and matches the formula", () => {
  assert.ok(Math.abs(logLoss([1, 0], [0.8, 0.4]) - -(Math.log(0.8) + Math.log(0.6)) / 2) < 1e-12);
  assert.ok(Math.abs(logLoss([1], [0]) - -Math.log(1e-15)) < 1e-9);
  assert.ok(Number.isFinite(logLoss([0], [1])));
  assert.throws(() => logLoss([1, 0], [0.5]), /2 labels but 1/);
});

test("confusion matrix, accuracy and ROC curve endpoints", () => {
  const labels = [1, 1, 0, 0, 1];
  const probs = [0.9, 0.4, 0.6, 0.1, 0.5];
  assert.deepEqual(confusionMatrix(labels, probs), { tp: 2, fn: 1, fp: 1, tn: 1 });
  assert.equal(accuracy(labels, probs), 3 / 5);
  const roc = rocCurve(labels, probs);
  assert.deepEqual([roc[0].fpr, roc[0].tpr], [0, 0]);
  assert.deepEqual([roc.at(-1)!.fpr, roc.at(-1)!.tpr], [1, 1]);
  // trapezoid area under the curve equals the AUC
  let area = 0;
  for (let i = 1; i < roc.length; i++)
    area += ((roc[i].fpr - roc[i - 1].fpr) * (roc[i].tpr + roc[i - 1].tpr)) / 2;
  assert.ok(Math.abs(area - rocAuc(labels, probs)) < 1e-12);
  const rep = binaryReport(labels, probs);
  assert.equal(rep.n, 5);
  assert.equal(rep.positives, 3);
});
