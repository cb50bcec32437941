import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import type { Vec3 } from "@lungflow/volume";
import Wasm from "numcodecs/zstd";
import { openStore, setZstdBackend, zstdBackend } from "../src/index.ts";
import { setNativeZstdLoaderForTest, ZstdCodec } from "../src/zstd-codec.ts";
import { PARAMS, source, tmpDir, volumes } from "./helpers.ts";

after(() => setZstdBackend("auto"));

/** Chunk-like bytes: an int16 HU volume of smooth regions plus noise (compresses ~10x). */
function chunkBytes(n: number, seed: number): Uint8Array {
  const a = new Int16Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = -1000 + ((i >> 11) % 40) * 45 + (s >>> 28);
  }
  return new Uint8Array(a.buffer);
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

test("the native zstd addon loads here (prebuilt in its package) and is the default", () => {
  assert.deepEqual(setZstdBackend("auto"), { backend: "native" });
  assert.deepEqual(zstdBackend(), { backend: "native" });
  assert.deepEqual(setZstdBackend("wasm"), {
    backend: "wasm",
    reason: "setZstdBackend('wasm')",
  });
  setZstdBackend("auto");
});

test("native frames decode with the WASM codec and WASM frames with the native one", async () => {
  const wasm = Wasm.fromConfig({ level: 3 });
  const codec = new ZstdCodec(3);
  for (const [n, seed] of [
    [64 * 64 * 64, 1],
    [7 * 13 * 5, 2],
    [1, 3],
  ]) {
    const raw = chunkBytes(n, seed);
    setZstdBackend("auto");
    const nat = await codec.encode(raw);
    assert.ok(nat.length < raw.length || n === 1, "native compresses");
    assert.ok(same(await wasm.decode(nat), raw), `WASM decodes native frame (${n} voxels)`);
    const w = await wasm.encode(raw);
    assert.ok(same(await codec.decode(w), raw), `native decodes WASM frame (${n} voxels)`);
    // The codec on the WASM backend writes exactly what numcodecs writes.
    setZstdBackend("wasm");
    assert.ok(same(await codec.encode(raw), w));
    assert.ok(same(await codec.decode(nat), raw));
  }
  setZstdBackend("auto");
  await assert.rejects(codec.decode(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), /zstd/i);
});

test("a store written with either backend reads back identical arrays with either", async () => {
  const shape: Vec3 = [37, 29, 41];
  const { hu, mask } = volumes(shape, 7);
  const stores: Record<string, string> = {};
  for (const b of ["auto", "wasm"] as const) {
    setZstdBackend(b);
    const dir = path.join(tmpDir("zstd-"), "s.zarr");
    const store = await openStore(dir, { create: true, params: PARAMS });
    await store.writePatient(
      { id: "p", hu, mask, source: source(shape), params: PARAMS },
      { chunk: 16, zstdLevel: 3 },
    );
    stores[b] = dir;
  }
  for (const [writer, dir] of Object.entries(stores)) {
    for (const reader of ["auto", "wasm"] as const) {
      setZstdBackend(reader);
      const store = await openStore(dir);
      const h = await store.readVolume("p", "hu");
      const m = await store.readVolume("p", "mask");
      assert.ok(
        same(new Uint8Array(h.data.buffer), new Uint8Array(hu.data.buffer)),
        `${writer} -> ${reader} hu`,
      );
      assert.ok(same(m.data, mask.data), `${writer} -> ${reader} mask`);
      assert.deepEqual((await store.verify()).problems, []);
    }
  }
  setZstdBackend("auto");
  // The stored metadata is the same: a store does not record which backend wrote it.
  const meta = (d: string) => fs.readFileSync(path.join(d, "patients/p/hu/zarr.json"), "utf8");
  assert.equal(meta(stores.auto), meta(stores.wasm));
});

test("an addon that fails to load falls back to the WASM codec (same frames read back)", async () => {
  const { createRequire } = await import("node:module");
  const real = createRequire(import.meta.url)("@mongodb-js/zstd");
  const raw = chunkBytes(4096, 9);
  try {
    setNativeZstdLoaderForTest(() => {
      throw new Error("no prebuilt binary for this platform");
    });
    assert.deepEqual(zstdBackend(), {
      backend: "wasm",
      reason: "@mongodb-js/zstd did not load: no prebuilt binary for this platform",
    });
    const codec = new ZstdCodec(3);
    const w = await codec.encode(raw);
    assert.ok(same(w, await Wasm.fromConfig({ level: 3 }).encode(raw)));
    assert.ok(same(await codec.decode(w), raw));
  } finally {
    setNativeZstdLoaderForTest(() => real);
  }
  assert.deepEqual(zstdBackend(), { backend: "native" });
});

test("LUNGFLOW_ZSTD=wasm selects the WASM codec for the whole process", () => {
  const code = `
    const { zstdBackend } = await import(${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)});
    console.log(JSON.stringify(zstdBackend()));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    encoding: "utf8",
    env: { ...process.env, LUNGFLOW_ZSTD: "wasm" },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim()), { backend: "wasm", reason: "LUNGFLOW_ZSTD=wasm" });
});
