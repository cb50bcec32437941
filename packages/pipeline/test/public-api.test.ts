import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the pipeline (ingest, patch streaming, encoder features) (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "DicomWebError",
    "FeatureStream",
    "IngestError",
    "PatchStream",
    "PatchStreamError",
    "ShuffleBuffer",
    "VolumeStream",
    "augmentedShape",
    "computeFeatures",
    "defaultKernel",
    "defaultWorkers",
    "drawParams",
    "ingest",
    "ingestWorkerUrl",
    "listPatientFolders",
    "memorySource",
    "patchBatches",
    "patchDataset",
    "patientFolders",
    "preprocessingParams",
    "pullBridge",
    "queueWorker",
    "replayTransforms",
    "resolveAugment",
    "resolvePatients",
    "serializeError",
    "shuffled",
    "sourceHash",
    "volumeBatches",
    "volumeDataset",
  ]);
});
