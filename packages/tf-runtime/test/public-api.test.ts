import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of tf-runtime (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "TfRuntimeError",
    "fileSystemIO",
    "initTf",
    "isTfRuntimeErrorCode",
    "loadModel",
    "loadNativeConv3d",
    "loadTensors",
    "registerConv3dGradients",
    "registerFastCpuKernels",
    "saveModel",
    "saveTensors",
    "tf",
    "unregisterFastCpuKernels",
    "useNativeConv3d",
  ]);
});
