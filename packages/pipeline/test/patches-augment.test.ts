import assert from "node:assert/strict";
import { test } from "node:test";
import { drawParams, resolveAugment } from "../src/patches/index.ts";

test("drawn parameters: seeded, all 48 symmetries, offsets in range", () => {
  const aug = resolveAugment({ huOffset: [-20, 30] });
  const seen = new Set<number>();
  for (let s = 0; s < 3000; s++) {
    const p = drawParams(s, aug);
    seen.add(p.symmetry);
    assert.ok(p.offset >= -20 && p.offset <= 30);
    assert.deepEqual(drawParams(s, aug), p);
  }
  assert.equal(seen.size, 48);
  assert.deepEqual(drawParams(5, resolveAugment(false)), { symmetry: 0, offset: 0 });
  assert.throws(() => resolveAugment({ min: 400, max: -1000 }), /must exceed/);
});
