import assert from "node:assert/strict";
import { test } from "node:test";
import * as api from "../src/index.ts";

test("public API of the cli package (exact: a change here is a change of the surface)", () => {
  assert.deepEqual(Object.keys(api).sort(), ["LUNGFLOW_VERSION", "buildProgram", "main"]);
});
