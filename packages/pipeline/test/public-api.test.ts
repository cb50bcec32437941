import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the pipeline (ingest, patch streaming, encoder features) (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "FeatureStream",
    "IngestError",
    "PatchStream",
    "PatchStreamError",
    "ShuffleBuffer",
    "VolumeStream",
    "augmentInto",
    "augmentIntoWasm",
    "augmentManyNative",
    "augmentedShape",
    "computeFeatures",
    "defaultKernel",
    "defaultWorkers",
    "drawParams",
    "ingest",
    "ingestWorkerUrl",
    "kernelNorm",
    "listPatientFolders",
    "memorySource",
    "nativeKernel",
    "patchBatches",
    "patchDataset",
    "patientFolders",
    "preprocessingParams",
    "pullBridge",
    "replayTransforms",
    "resolveAugment",
    "resolvePatients",
    "serializeError",
    "shuffled",
    "sourceHash",
    "useNativeStreamCopy",
    "volumeBatches",
    "volumeDataset",
    "wasmModule",
    "wasmVolume",
  ]);
});
