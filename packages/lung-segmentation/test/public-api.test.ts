import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

// Changes to the public surface show up here in review.
test("public API surface", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "KDSB17_KERNELS",
    "SegmentationError",
    "binaryDilate",
    "binaryErode",
    "binaryOpening",
    "cleanKernel",
    "histogramInt16",
    "histogramKernel",
    "labelComponents",
    "labelRuns",
    "lungRegion",
    "otsuFromHistogram",
    "otsuThreshold",
    "segmentLungs",
    "segmentationParams",
  ]);
  const e = new api.SegmentationError("NO_LUNG_FOUND", "x", { source: "p1" });
  assert.equal(e._tag, "SegmentationError");
  assert.equal(e.code, "NO_LUNG_FOUND");
  assert.deepEqual(e.toJSON(), {
    _tag: "SegmentationError",
    code: "NO_LUNG_FOUND",
    message: "x",
    context: { source: "p1" },
  });
});
