import assert from "node:assert/strict";
import { test } from "node:test";
import { makePhantom } from "../src/index.ts";

const geo = { matrix: 112, pixelSpacing: 0.9, slices: 56, sliceSpacing: 1.25 } as const;

test("size margins keep the 10 mm rule while widening the gap between classes", () => {
  for (let seed = 1; seed <= 6; seed++) {
    const pos = makePhantom({
      ...geo,
      seed,
      nodules: 3,
      cancer: true,
      cancerMinMm: 14,
      benignMaxMm: 6,
    });
    const sizes = pos.nodules.map((n) => n.diameterMm).sort((a, b) => b - a);
    assert.equal(pos.label, 1);
    assert.ok(sizes[0] >= 14, `largest ${sizes[0]}`);
    assert.ok(
      sizes.slice(1).every((d) => d <= 6),
      `others ${sizes}`,
    );
    const neg = makePhantom({
      ...geo,
      seed,
      nodules: 3,
      cancer: false,
      cancerMinMm: 14,
      benignMaxMm: 6,
    });
    assert.equal(neg.label, 0);
    assert.ok(neg.nodules.every((n) => n.diameterMm <= 6));
  }
});

test("margins outside the rule are refused", () => {
  assert.throws(
    () => makePhantom({ ...geo, seed: 1, nodules: 1, cancer: true, cancerMinMm: 9 }),
    /cancerMinMm must be in \[10, 30\]/,
  );
  assert.throws(
    () => makePhantom({ ...geo, seed: 1, nodules: 1, cancer: false, benignMaxMm: 10 }),
    /benignMaxMm must be in \[3, 10\)/,
  );
});
