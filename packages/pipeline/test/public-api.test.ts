import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the pipeline (ingest, patch streaming, encoder features, training flows) (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "DicomWebError",
    "FeatureStream",
    "IngestError",
    "PatchStream",
    "PatchStreamError",
    "ShuffleBuffer",
    "VolumeStream",
    "allSymmetries",
    "augmentedShape",
    "computeFeatures",
    "defaultKernel",
    "defaultWorkers",
    "drawParams",
    "featureDataset",
    "ingest",
    "ingestWorkerUrl",
    "listPatientFolders",
    "memorySource",
    "patchBatches",
    "patchDataset",
    "patientFolders",
    "predictFlow",
    "preprocessingParams",
    "pullBridge",
    "queueWorker",
    "readClassifierRun",
    "reconstructFlow",
    "replayTransforms",
    "resolveAugment",
    "resolvePatients",
    "serializeError",
    "sourceHash",
    "trainClassifierFlow",
    "trainGmcaeFlow",
    "volumeBatches",
    "volumeDataset",
  ]);
});
