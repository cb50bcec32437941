import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the store, samplers included (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "ChunkCache",
    "ChunkDecodeError",
    "LabelsError",
    "PatchStore",
    "SCHEMA_VERSION",
    "SamplerError",
    "StoreError",
    "balancedSampler",
    "canonicalJson",
    "crc32c",
    "gridSampler",
    "isStaleClaim",
    "isValidEncoderId",
    "isValidPatientId",
    "lungSampler",
    "makeSampler",
    "nthVoxel",
    "openStore",
    "paramsDiff",
    "parseLabelsCsv",
    "readIdCancerCsv",
    "setZstdBackend",
    "stratifiedSplit",
    "uniformSampler",
    "voxelIndex",
    "zstdBackend",
  ]);
});
