import assert from "node:assert/strict";
import { test } from "node:test";
import { initTf, isTfRuntimeErrorCode, tf } from "../src/index.ts";

test("without libtensorflow the choice falls back to cpu and says why", async () => {
  const info = await initTf({ quiet: true, env: {} });
  // tfjs-node(-gpu) are optional dependencies whose native binding is never built here.
  if (info.backend === "cpu") {
    assert.match(info.reason, /tfjs-node-gpu/);
    assert.match(info.reason, /tfjs-node (not|installed|did)/);
  }
  assert.equal(tf.getBackend(), info.tfBackend);
  assert.match(info.reason, /native conv3d kernels (on|off)/);
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
