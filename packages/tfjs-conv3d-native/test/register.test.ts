import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as api from "../src/index.ts";
import { KERNEL_NAMES, registerNativeConv3d, unregisterNativeConv3d } from "../src/index.ts";
import { type Case, cpuBackend, relErr, runOps, tf } from "./helpers.ts";

before(cpuBackend);
after(() => unregisterNativeConv3d(tf));

test("public API", () => {
  assert.deepEqual(Object.keys(api).sort(), [
    "KERNEL_NAMES",
    "nativeElementwise",
    "registerNativeConv3d",
    "unregisterNativeConv3d",
  ]);
});

test("register replaces the cpu kernels; unregister restores tfjs's own", () => {
  const originals = KERNEL_NAMES.map((n) => tf.getKernel(n, "cpu"));
  assert.ok(originals.every((k) => k !== undefined));
  const s = registerNativeConv3d(tf, { threads: 1 });
  assert.ok(s.ok, s.reason);
  assert.equal(s.threads, 1);
  assert.match(s.isa, /^(avx512|avx2|generic)$/);
  const natives = KERNEL_NAMES.map((n) => tf.getKernel(n, "cpu"));
  for (const [i, n] of natives.entries()) assert.notEqual(n, originals[i]);
  // again: same kernels, new thread count
  const again = registerNativeConv3d(tf, { threads: 2 });
  assert.equal(again.threads, 2);
  assert.deepEqual(
    KERNEL_NAMES.map((n) => tf.getKernel(n, "cpu")),
    natives,
  );
  assert.equal(unregisterNativeConv3d(tf), true);
  assert.deepEqual(
    KERNEL_NAMES.map((n) => tf.getKernel(n, "cpu")),
    originals,
  );
  assert.equal(unregisterNativeConv3d(tf), false, "nothing left to restore");
});

test("unsupported attributes fall back to tfjs's kernel (dilations 2)", () => {
  const x = tf.tensor5d(
    Float32Array.from({ length: 7 * 7 * 7 * 2 }, (_, i) => Math.sin(i)),
    [1, 7, 7, 7, 2],
  );
  const w = tf.tensor5d(
    Float32Array.from({ length: 27 * 2 * 3 }, (_, i) => Math.cos(i)),
    [3, 3, 3, 2, 3],
  );
  const ref = tf.conv3d(x, w, 1, "same", "NDHWC", 2).dataSync() as Float32Array;
  assert.ok(registerNativeConv3d(tf).ok);
  const got = tf.conv3d(x, w, 1, "same", "NDHWC", 2).dataSync() as Float32Array;
  unregisterNativeConv3d(tf);
  assert.deepEqual(got, ref);
});

test("int32 inputs fall back to tfjs's kernel", () => {
  const c: Case = { x: [1, 4, 4, 4, 2], k: [3, 3, 3, 2, 2], s: [1, 1, 1], pad: "same" };
  const x = tf.ones(c.x, "int32") as tf.Tensor5D;
  const w = tf.ones(c.k, "int32") as tf.Tensor5D;
  const ref = tf.conv3d(x, w, 1, "same").dataSync();
  assert.ok(registerNativeConv3d(tf).ok);
  const got = tf.conv3d(x, w, 1, "same").dataSync();
  unregisterNativeConv3d(tf);
  assert.deepEqual(Array.from(got), Array.from(ref));
});

test("a missing addon gives ok:false with the reason and changes nothing", () => {
  const before = KERNEL_NAMES.map((n) => tf.getKernel(n, "cpu"));
  const s = registerNativeConv3d(tf, {
    addonPath: "/nonexistent/build/Release/conv3d_native.node",
  });
  assert.equal(s.ok, false);
  assert.match(s.reason, /no native addon at \/nonexistent\/build\/Release\/conv3d_native\.node/);
  assert.equal(s.isa, "");
  assert.deepEqual(
    KERNEL_NAMES.map((n) => tf.getKernel(n, "cpu")),
    before,
  );
});

test("a broken addon file gives ok:false naming the load error", async () => {
  const fs = await import("node:fs");
  const os = await import("node:os");
  const path = await import("node:path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "c3d-"));
  const file = path.join(dir, "broken.node");
  fs.writeFileSync(file, "not an ELF file");
  try {
    const s = registerNativeConv3d(tf, { addonPath: file });
    assert.equal(s.ok, false);
    assert.match(s.reason, /failed to load/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("LUNGFLOW_NATIVE_CONV3D=0 disables registration", () => {
  process.env.LUNGFLOW_NATIVE_CONV3D = "0";
  try {
    const s = registerNativeConv3d(tf);
    assert.equal(s.ok, false);
    assert.match(s.reason, /LUNGFLOW_NATIVE_CONV3D=0/);
  } finally {
    delete process.env.LUNGFLOW_NATIVE_CONV3D;
  }
});

test("an ISA this CPU lacks is refused with the list of available ones", () => {
  const s = registerNativeConv3d(tf, { isa: "sse9" });
  assert.equal(s.ok, false);
  assert.match(s.reason, /ISA "sse9" is not available on this CPU \(available: .*generic/);
});

test("kernels keep working inside tf.tidy and free their outputs", () => {
  assert.ok(registerNativeConv3d(tf).ok);
  const c: Case = { x: [1, 6, 6, 6, 4], k: [3, 3, 3, 4, 8], s: [2, 2, 2], pad: "same" };
  const n0 = tf.memory().numTensors;
  const a = runOps(c, 3);
  assert.equal(tf.memory().numTensors, n0);
  unregisterNativeConv3d(tf);
  const b = runOps(c, 3);
  for (const k of ["y", "dx", "dw"] as const) assert.ok(relErr(a[k], b[k]) <= 1e-4);
});
