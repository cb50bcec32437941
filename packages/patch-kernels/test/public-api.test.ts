import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";
import * as assembler from "../src/wasm/assembler.ts";

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

test("public API of @lungflow/patch-kernels/wasm-assembler (exact)", () => {
  assert.deepEqual(Object.keys(assembler).sort(), [
    "BLOCK",
    "END",
    "F32",
    "I32",
    "LOOP",
    "V128",
    "assembleModule",
    "br",
    "brIf",
    "func",
    "get",
    "i32c",
    "mem",
    "name",
    "section",
    "set",
    "simd",
    "sleb",
    "tee",
    "uleb",
    "vec",
    "webAssembly",
  ]);
});
