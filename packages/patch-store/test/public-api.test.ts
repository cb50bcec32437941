import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";
import * as samplers from "../src/samplers/index.ts";

// The store's part of the public surface (samplers add their own names).
const STORE_API = [
  "ChunkCache",
  "ChunkDecodeError",
  "LabelsError",
  "PatchStore",
  "SCHEMA_VERSION",
  "StoreError",
  "canonicalJson",
  "crc32c",
  "isStaleClaim",
  "isValidEncoderId",
  "isValidPatientId",
  "mulberry32",
  "openStore",
  "paramsDiff",
  "parseLabelsCsv",
  "readIdCancerCsv",
  "stratifiedSplit",
];

test("public API of the store", () => {
  const want = [...new Set([...STORE_API, ...Object.keys(samplers)])].sort();
  assert.deepEqual(Object.keys(api).sort(), want);
});
