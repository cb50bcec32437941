import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { nativeKernel, useNativeKernel } from "../src/index.ts";
import { defaultAddonPath, loadAddon } from "../src/native-addon.ts";

test("the addon loads from the build, with both kernels", () => {
  const r = loadAddon();
  assert.ok("addon" in r, "error" in r ? r.error : "");
  assert.equal(r.path, defaultAddonPath);
  assert.equal(typeof r.addon.cutPatches, "function");
  assert.equal(typeof r.addon.streamCopy, "function");
});

test("a missing or broken addon is an error naming the file, never a throw", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "patch-kernels-"));
  try {
    const missing = path.join(dir, "Release", "none.node");
    const m = loadAddon(missing);
    assert.ok("error" in m);
    assert.match(m.error, /no native addon at .*none\.node: it was not built/);
    fs.writeFileSync(path.join(dir, "native-build-error.txt"), "g++: fatal error: no compiler\n");
    const failed = loadAddon(path.join(dir, "Release", "other.node"));
    assert.ok("error" in failed);
    assert.match(failed.error, /the native build failed: g\+\+: fatal error: no compiler/);
    const broken = path.join(dir, "broken.node");
    fs.writeFileSync(broken, "not a shared object");
    const b = loadAddon(broken);
    assert.ok("error" in b);
    assert.match(b.error, /native addon .*broken\.node failed to load/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("useNativeKernel(false) hides the native kernel in this thread, true brings it back", () => {
  assert.equal(useNativeKernel(false), false);
  assert.equal(nativeKernel(), null);
  assert.equal(useNativeKernel(true), true);
  assert.equal(typeof nativeKernel(), "function");
});
