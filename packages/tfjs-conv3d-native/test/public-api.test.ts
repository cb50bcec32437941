import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of tfjs-conv3d-native (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "KERNEL_NAMES",
    "nativeElementwise",
    "registerNativeConv3d",
    "unregisterNativeConv3d",
  ]);
});
