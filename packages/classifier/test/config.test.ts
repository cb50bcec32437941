import assert from "node:assert/strict";
import { test } from "node:test";
import { ClassifierError, parseClassifierRunConfig, resolveClassWeight } from "../src/index.ts";

test("defaults fill a partial config", () => {
  const c = parseClassifierRunConfig({ head: { dense: [64] }, train: { epochs: 3 } }, "c.json");
  assert.deepEqual(c.head.dense, [64]);
  assert.deepEqual(c.head.bins, [1]);
  assert.equal(c.head.region, true);
  assert.equal(c.head.density, 8);
  assert.equal(c.head.channels, "density");
  assert.equal(c.train.epochs, 3);
  assert.equal(c.train.learningRate, 1e-2);
  assert.equal(c.train.classWeight, "balanced");
});

test("unknown keys, wrong types and ranges are errors naming the file and key", () => {
  const bad = (raw: unknown, re: RegExp) =>
    assert.throws(
      () => parseClassifierRunConfig(raw, "c.json"),
      (e: unknown) => e instanceof ClassifierError && e.code === "BAD_CONFIG" && re.test(e.message),
    );
  bad({ model: {} }, /c\.json: model is not a known key/);
  bad({ head: { denseUnits: 3 } }, /head\.denseUnits is not a known key/);
  bad({ head: { dropout: 1.5 } }, /head\.dropout must be in \[0, 1\)/);
  bad({ head: { bins: [1, 0] } }, /head\.bins must be a list of positive integers/);
  bad({ train: { epochs: "3" } }, /train\.epochs must be a positive integer/);
  bad({ train: { classWeight: [1] } }, /train\.classWeight/);
  bad({ train: { augment: "yes" } }, /train\.augment must be true or false/);
  bad([], /config must be an object/);
  bad({ head: { channels: "encoder" } }, /head\.channels must be "all" or "density"/);
  bad({ head: { density: -1 } }, /head\.density must be a non-negative integer/);
  bad({ head: { density: 0 } }, /head\.channels "density" needs a density channel/);
  bad({ head: { region: 1 } }, /head\.region must be true or false/);
});

test("balanced class weights follow n / (2 n_c)", () => {
  assert.deepEqual(resolveClassWeight("balanced", [1, 0, 0, 0]), [4 / 6, 2]);
  assert.deepEqual(resolveClassWeight("none", [1, 0]), [1, 1]);
  assert.deepEqual(resolveClassWeight([0.5, 3], [1]), [0.5, 3]);
  assert.deepEqual(resolveClassWeight("balanced", [1, 1]), [1, 1]);
});
