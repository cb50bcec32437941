import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

// Changing the public surface must show up in review: update this list on purpose.
test("public API of patch-kernels (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "augmentInto",
    "augmentIntoWasm",
    "augmentManyNative",
    "kernelNorm",
    "nativeKernel",
    "nativeStreamCopy",
    "useNativeKernel",
    "useNativeStreamCopy",
    "wasmModule",
    "wasmVolume",
  ]);
});
