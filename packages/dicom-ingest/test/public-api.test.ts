import assert from "node:assert/strict";
import { test } from "node:test";
import { LungflowError } from "@lungflow/volume";
import * as api from "../src/index.ts";

test("public API surface (changes show in review)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "DEFAULT_TOLERANCES",
    "DicomError",
    "HU_MIN",
    "HU_PADDING",
    "NiftiError",
    "PLAUSIBLE_RANGES",
    "SUMMARY_COLUMNS",
    "csvLine",
    "decodeNifti",
    "discoverSeries",
    "encodeNiftiRaw",
    "huParams",
    "isDicomError",
    "isNiftiError",
    "niftiAffine",
    "niftiToVolume",
    "rankSeries",
    "readDiscoveredPatient",
    "readHeader",
    "readNativeSlicesKernel",
    "readNifti",
    "readPatient",
    "readSeries",
    "storedToHu",
    "summarizeFiles",
    "writeNifti",
  ]);
});

test("DicomError is a LungflowError with a tag, a code and a serialisable context", () => {
  const e = new api.DicomError("GANTRY_TILT", "tilted", {
    file: "a.dcm",
    reason: "gantry tilt 15 deg",
  });
  assert.ok(e instanceof LungflowError);
  assert.equal(e._tag, "DicomError");
  assert.ok(api.isDicomError(e, "GANTRY_TILT"));
  assert.ok(!api.isDicomError(e, "NOT_AXIAL"));
  assert.deepEqual(JSON.parse(JSON.stringify(e)), {
    _tag: "DicomError",
    code: "GANTRY_TILT",
    message: "tilted",
    context: { file: "a.dcm", reason: "gantry tilt 15 deg" },
  });
});
