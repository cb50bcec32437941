import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRng, mixSeed, mulberry32, shuffled } from "../src/index.ts";

describe("createRng, mixSeed, shuffled", () => {
  test("same seed, same stream; mixSeed separates neighbours", () => {
    const a = createRng(42);
    const b = createRng(42);
    for (let i = 0; i < 100; i++) assert.equal(a.next(), b.next());
    const seeds = new Set(Array.from({ length: 1000 }, (_, i) => mixSeed(7, 0, i)));
    assert.equal(seeds.size, 1000);
    assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
    assert.notEqual(mixSeed(1, 2 ** 33), mixSeed(1, 2 ** 34));
  });
  test("int(n) is uniform (chi-square over 10 bins)", () => {
    const r = createRng(3);
    const counts = new Array(10).fill(0);
    const N = 20000;
    for (let i = 0; i < N; i++) counts[r.int(10)]++;
    const chi = counts.reduce((s, c) => s + (c - N / 10) ** 2 / (N / 10), 0);
    assert.ok(chi < 27.9, `chi2 ${chi}`); // p = 0.001 at 9 dof
  });
  test("createRng draws mulberry32's stream; shuffled is a seeded permutation", () => {
    const m = mulberry32(9);
    const r = createRng(9);
    for (let i = 0; i < 10; i++) assert.equal(r.next(), m());
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = shuffled(items, createRng(5));
    assert.deepEqual(shuffled(items, createRng(5)), a);
    assert.notDeepEqual(a, items);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      items,
    );
    assert.deepEqual(
      items,
      Array.from({ length: 20 }, (_, i) => i),
      "input untouched",
    );
  });
});
