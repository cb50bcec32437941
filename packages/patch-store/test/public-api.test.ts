import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

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
  "isValidPatientId",
  "mulberry32",
  "openStore",
  "paramsDiff",
  "parseLabelsCsv",
  "readIdCancerCsv",
  "stratifiedSplit",
];

test("public API of the store", () => {
  const keys = new Set(Object.keys(api));
  for (const k of STORE_API) assert.ok(keys.has(k), `missing export ${k}`);
});
