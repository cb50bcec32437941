import assert from "node:assert/strict";
import { test } from "node:test";
import { CANCER_DIAMETER_MM, makePhantom } from "../src/index.ts";

test("makePhantom: shape, determinism and label rule", () => {
  const a = makePhantom({ seed: 5, nodules: 3, cancer: true });
  const b = makePhantom({ seed: 5, nodules: 3, cancer: true });
  const c = makePhantom({ seed: 6, nodules: 3, cancer: true });
  assert.deepEqual(a.shape, [48, 96, 96]);
  assert.deepEqual(a.spacing, [1.25, 0.7, 0.7]);
  assert.equal(a.hu.length, 48 * 96 * 96);
  assert.deepEqual(Buffer.from(a.hu.buffer), Buffer.from(b.hu.buffer));
  assert.notDeepEqual(Buffer.from(a.hu.buffer), Buffer.from(c.hu.buffer));
  assert.equal(a.label, 1);
  assert.ok(a.nodules.some((n) => n.diameterMm >= CANCER_DIAMETER_MM));
  const d = makePhantom({ seed: 5, nodules: 3, cancer: false });
  assert.equal(d.label, 0);
});
