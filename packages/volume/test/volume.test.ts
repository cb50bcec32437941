import assert from "node:assert/strict";
import { test } from "node:test";
import { isLungflowError, LungflowError, makeVolume } from "../src/index.ts";

test("makeVolume checks the data length against the shape", () => {
  const v = makeVolume(new Int16Array(24), [2, 3, 4], [2.5, 0.7, 0.7]);
  assert.deepEqual(v.shape, [2, 3, 4]);
  assert.throws(() => makeVolume(new Int16Array(23), [2, 3, 4]), /23 voxels/);
});

test("isLungflowError narrows by tag", () => {
  const e = new LungflowError("DicomError", "GANTRY_TILT", "tilted", { file: "a.dcm" });
  assert.ok(isLungflowError(e));
  assert.ok(isLungflowError(e, "DicomError"));
  assert.ok(!isLungflowError(e, "StoreError"));
  assert.ok(!isLungflowError(new Error("x")));
});
