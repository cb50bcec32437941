import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the viewer", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "PLANES",
    "ViewerError",
    "featureMagnitude",
    "magnitudeSlice",
    "parsePredictionsCsv",
    "patientRows",
    "sliceBox",
    "startViewer",
  ]);
});
