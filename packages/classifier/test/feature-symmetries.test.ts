import assert from "node:assert/strict";
import { test } from "node:test";
import { featureSymmetries } from "../src/index.ts";

test("feature symmetries: identity first, prefixes, all 48 distinct, bad K refused", () => {
  const all = featureSymmetries(48);
  assert.equal(all[0], 0);
  assert.equal(new Set(all).size, 48);
  assert.deepEqual(
    [...all].sort((a, b) => a - b),
    Array.from({ length: 48 }, (_, i) => i),
  );
  for (const k of [1, 2, 8, 20]) assert.deepEqual(featureSymmetries(k), all.slice(0, k));
  // the first few are not all neighbours of the identity (a shuffled order)
  assert.notDeepEqual(featureSymmetries(4), [0, 1, 2, 3]);
  for (const bad of [0, 49, 1.5]) assert.throws(() => featureSymmetries(bad), RangeError);
});
