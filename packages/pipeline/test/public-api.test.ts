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

test("public API of @lungflow/pipeline/ingest: the root's ingest exports less queueWorker (exact)", async () => {
  const sub = await import("../src/ingest/index.ts");
  assert.deepEqual(Object.keys(sub).sort(), [
    "DicomWebError",
    "IngestError",
    "defaultWorkers",
    "ingest",
    "ingestWorkerUrl",
    "listPatientFolders",
    "patientFolders",
    "preprocessingParams",
    "serializeError",
    "sourceHash",
  ]);
  const root: Record<string, unknown> = { ...api };
  for (const [k, v] of Object.entries(sub)) assert.equal(v, root[k], k);
  const pkg = JSON.parse(
    await (await import("node:fs/promises")).readFile(
      new URL("../package.json", import.meta.url),
      "utf8",
    ),
  );
  assert.deepEqual(pkg.exports["./ingest"], {
    types: "./dist/ingest/index.d.ts",
    default: "./dist/ingest/index.js",
  });
});
