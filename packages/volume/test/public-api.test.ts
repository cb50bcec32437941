import assert from "node:assert/strict";
import { test } from "node:test";
import * as volume from "../src/index.ts";

// Changing the public surface must show up in review: update this list on purpose.
test("public API surface", () => {
  assert.deepEqual(Object.keys(volume).sort(), [
    "AXIAL_DIRECTION",
    "LungflowError",
    "SYMMETRIES",
    "SYMMETRY_COUNT",
    "VolumeError",
    "applySymmetry",
    "bboxOfMask",
    "checkBBox",
    "composeSymmetry",
    "createRng",
    "crop",
    "extractPatch",
    "inverseSymmetry",
    "isLungflowError",
    "makeVolume",
    "mixSeed",
    "mulberry32",
    "normalizeHu",
    "resample",
    "resampleKernel",
    "serialSlabs",
    "shuffled",
    "slabCount",
    "slabRange",
    "symmetryShape",
    "voxelCount",
    "zoomSize",
  ]);
});
