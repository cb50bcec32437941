import assert from "node:assert/strict";
import { test } from "node:test";
import { segmentationParams } from "../src/index.ts";

// Recorded with every stored patient: a change makes existing stores refuse new ingests
// (PARAMS_MISMATCH), so it must be made on purpose.
test("the recorded segmentation parameters are kdsb17's, fresh JSON on every call", () => {
  const p = segmentationParams();
  assert.deepEqual(p, {
    thresholdMethod: "otsu",
    maskMode: "kdsb17",
    kernels: {
      opening: { kernel: [5, 5], iterations: 2, perSlice: true },
      dilateJoin: { kernel: [5, 1, 5], iterations: 4 },
      dilateCrop: { kernel: [1, 5, 1], iterations: 4 },
    },
    tailFraction: 0.005,
  });
  assert.deepEqual(segmentationParams("improved", 0.01), {
    ...p,
    maskMode: "improved",
    tailFraction: 0.01,
  });
  p.kernels.opening.kernel[0] = 7;
  assert.equal(segmentationParams().kernels.opening.kernel[0], 5, "callers get a copy");
});
