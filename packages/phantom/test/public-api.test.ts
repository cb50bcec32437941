import assert from "node:assert/strict";
import { test } from "node:test";
import * as phantom from "../src/index.ts";

test("public API surface (update on purpose)", () => {
  assert.deepEqual(Object.keys(phantom).sort(), [
    "BROKEN_VARIANTS",
    "CANCER_DIAMETER_MM",
    "GROUND_TRUTH_DIR",
    "HU_MAX",
    "HU_MIN",
    "REALISTIC_PRESET",
    "TRANSFER_SYNTAX",
    "makePhantom",
    "phantomGeometry",
    "readGroundTruth",
    "writeCohort",
    "writeSeries",
  ]);
});
