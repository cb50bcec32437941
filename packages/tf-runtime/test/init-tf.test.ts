import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { test } from "node:test";
import { initTf, isTfRuntimeErrorCode, tf } from "../src/index.ts";

/** Whether `mod`'s libtensorflow binding is built here (without it, it cannot load). */
function hasBinding(mod: string): boolean {
  let dir: string;
  try {
    dir = path.dirname(createRequire(import.meta.url).resolve(`${mod}/package.json`));
  } catch {
    return false;
  }
  const lib = path.join(dir, "lib");
  return (
    fs.existsSync(lib) &&
    fs.readdirSync(lib).some((d) => fs.existsSync(path.join(lib, d, "tfjs_binding.node")))
  );
}
// tfjs-node(-gpu) are optional dependencies whose native binding is usually not built.
const bindings = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"].filter(hasBinding);

test("without libtensorflow the choice falls back to cpu and says why", {
  skip: bindings.length > 0 && `a libtensorflow binding is built here (${bindings})`,
}, async () => {
  const info = await initTf({ quiet: true, env: {} });
  assert.equal(info.backend, "cpu");
  assert.equal(info.tfBackend, "cpu");
  assert.equal(tf.getBackend(), "cpu");
  // Both node backends were tried, best first, and each says why it could not be used.
  assert.match(
    info.reason,
    /^@tensorflow\/tfjs-node-gpu (not installed|installed without its libtensorflow binding).*; @tensorflow\/tfjs-node (not installed|installed without its libtensorflow binding)/,
  );
  assert.match(info.reason, /fast cpu kernels on/);
  assert.match(info.reason, /native conv3d kernels (on|off)/);
  assert.equal(info.nativeConv3d, /native conv3d kernels on/.test(info.reason));
  assert.ok(tf.getGradient("Conv3DBackpropInputV2"));
});

test("with a libtensorflow binding the best node backend that loads is chosen, or the reason says why none did", {
  skip: bindings.length === 0 && "no libtensorflow binding is built here",
}, async () => {
  const info = await initTf({ quiet: true, env: {} });
  assert.equal(tf.getBackend(), info.tfBackend);
  if (info.backend === "cpu") {
    for (const mod of bindings)
      assert.match(info.reason, new RegExp(`${mod} (did not load|loaded but)`));
  } else {
    assert.equal(info.tfBackend, "tensorflow");
    assert.ok(
      bindings.includes(
        info.backend === "node-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node",
      ),
    );
    assert.equal(info.nativeConv3d, false, "the native cpu kernels are for the cpu backend only");
  }
  assert.ok(tf.getGradient("Conv3DBackpropInputV2"));
});

test("LUNGFLOW_BACKEND / --backend force a backend", async () => {
  const info = await initTf({
    quiet: true,
    env: { LUNGFLOW_BACKEND: "cpu", LUNGFLOW_NATIVE_CONV3D: "0" },
  });
  assert.equal(info.backend, "cpu");
  assert.match(info.reason, /forced by LUNGFLOW_BACKEND/);
  assert.match(info.reason, /LUNGFLOW_NATIVE_CONV3D=0/);
  assert.equal(info.nativeConv3d, false);
});

test("wasm is refused, unknown names are rejected, a missing forced backend is an error", async () => {
  await assert.rejects(initTf({ backend: "wasm", quiet: true }), (e: unknown) =>
    isTfRuntimeErrorCode(e, "BACKEND_REFUSED"),
  );
  await assert.rejects(initTf({ backend: "webgpu", quiet: true }), (e: unknown) =>
    isTfRuntimeErrorCode(e, "BAD_BACKEND"),
  );
  const r = await initTf({ backend: "node", quiet: true }).then(
    (i) => i,
    (e: unknown) => e,
  );
  if (r instanceof Error) assert.ok(isTfRuntimeErrorCode(r, "BACKEND_UNAVAILABLE"), String(r));
  else assert.equal((r as { backend: string }).backend, "node");
  await initTf({ backend: "cpu", quiet: true });
});
