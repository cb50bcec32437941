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

test("public API of @lungflow/patch-kernels/native-loader (exact), and a missing addon is an error naming the file", async () => {
  const loader = await import("../src/native-loader.ts");
  assert.deepEqual(Object.keys(loader).sort(), ["loadNativeAddon"]);
  const r = loader.loadNativeAddon("/nonexistent/build/Release/x.node", "@lungflow/x");
  assert.ok("error" in r);
  assert.match(
    r.error,
    /no native addon at \/nonexistent\/build\/Release\/x\.node: .*pnpm --filter @lungflow\/x build/,
  );
});
