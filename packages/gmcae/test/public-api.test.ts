import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the GMCAE (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "BatchNorm3D",
    "DEFAULT_GMCAE_CONFIG",
    "DEFAULT_TRAIN_CONFIG",
    "GmcaeError",
    "LogSoftmax",
    "RunRng",
    "ShiftedELU",
    "buildGmcae",
    "encoderOutputLayer",
    "gmcaeConfig",
    "gmmNll",
    "gmmNllPerPatch",
    "loadGmcae",
    "mosaicPng",
    "parseRunConfig",
    "reconstruct",
    "saveGmcae",
    "trainConfig",
    "trainGmcae",
    "wrapGmcae",
    "writeMosaic",
  ]);
});
