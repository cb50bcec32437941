import assert from "node:assert/strict";
import { test } from "node:test";
import { makePhantom } from "@lungflow/phantom";
import { makeVolume } from "@lungflow/volume";
import {
  type LungSegmentation,
  lungRegion,
  SegmentationError,
  segmentLungs,
} from "../src/index.ts";
import { metrics } from "./metrics.ts";

// The stored tight mask (kdsb17 mode) leaves the nodules out, juxtapleural ones entirely;
// the region built from it and the stored HU holds them, and stays off the chest wall.
test("lungRegion holds every nodule, juxtapleural ones included, and not the body", () => {
  const o = { seed: 21, slices: 110, matrix: 300, pixelSpacing: 1, sliceSpacing: 1, nodules: 5 };
  const p = makePhantom(o);
  const noNodules = makePhantom({ ...o, nodules: [] }).lungMask;
  const seg = segmentLungs(makeVolume(p.hu, p.shape, p.spacing, p.origin), { mode: "kdsb17" });
  const tight = seg.mask.data as Uint8Array;
  const region = lungRegion(seg.hu, tight, seg.otsuThreshold);
  assert.notEqual(region, tight);
  const withMask = (data: Uint8Array): LungSegmentation => ({
    ...seg,
    mask: { ...seg.mask, data },
  });
  const before = metrics(p, seg, noNodules);
  const after = metrics(p, withMask(region), noNodules);
  assert.ok(
    p.nodules.some((d) => d.juxtapleural),
    "the phantom has a juxtapleural nodule",
  );
  p.nodules.forEach((d, i) => {
    const what = `${d.juxtapleural ? "juxtapleural" : "inner"} ${d.diameterMm.toFixed(1)} mm nodule`;
    assert.ok(before.noduleCoverage[i] < 0.3, `${what}: out of the tight mask`);
    assert.ok(
      after.noduleCoverage[i] >= 0.8,
      `${what}: ${(100 * after.noduleCoverage[i]).toFixed(0)}% in the region`,
    );
  });
  // not the body: the region's Dice against the true lungs (nodules aside) rises
  assert.ok(after.dice > before.dice, `Dice ${before.dice.toFixed(4)} -> ${after.dice.toFixed(4)}`);
  assert.ok(after.dice > 0.97, `Dice ${after.dice.toFixed(4)}`);
});

test("lungRegion refuses a mask of another size and a non-finite threshold", () => {
  const v = makeVolume(new Int16Array(8).fill(-1000), [2, 2, 2], [1, 1, 1], [0, 0, 0]);
  assert.throws(
    () => lungRegion(v, new Uint8Array(7), -400),
    (e) => e instanceof SegmentationError && e.code === "BAD_INPUT",
  );
  assert.throws(() => lungRegion(v, new Uint8Array(8), Number.NaN), /threshold/);
});
