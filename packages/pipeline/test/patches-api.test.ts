import assert from "node:assert/strict";
import { test } from "node:test";
import * as patches from "../src/patches/index.ts";

// The public surface of patch streaming: a change here is a change for every user.
test("patch streaming public API", () => {
  assert.deepEqual(Object.keys(patches).sort(), [
    "PatchStream",
    "PatchStreamError",
    "ShuffleBuffer",
    "VolumeStream",
    "augmentedShape",
    "defaultKernel",
    "drawParams",
    "memorySource",
    "patchBatches",
    "patchDataset",
    "pullBridge",
    "replayTransforms",
    "resolveAugment",
    "resolvePatients",
    "volumeBatches",
    "volumeDataset",
  ]);
});
