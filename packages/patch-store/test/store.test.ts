import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { isLungflowError, mulberry32, type Vec3 } from "@lungflow/volume";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { crc32c, openStore } from "../src/index.ts";
import { PARAMS, refPatch, source, tmpDir, volumes } from "./helpers.ts";

test("crc32c matches the standard check value", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  const long = new Uint8Array(1000).map((_, i) => (i * 7) & 0xff);
  // slicing-by-8 path equals the byte-at-a-time path
  let c = 0xffffffff;
  for (const b of long) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  assert.equal(crc32c(long), (c ^ 0xffffffff) >>> 0);
});

test("write, list, get and read back a patient; valid Zarr v3 readable by plain zarrita", async () => {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [19, 23, 17];
  const { hu, mask } = volumes(shape);
  await store.writePatient(
    { id: "p1", hu, mask, source: source(shape), params: PARAMS },
    { chunk: 8, zstdLevel: 5 },
  );
  assert.deepEqual(await store.listPatients(), ["p1"]);
  const a = await store.getPatient("p1");
  assert.ok(a);
  assert.deepEqual(a.shape, shape);
  assert.deepEqual(a.origin, [-100, -120, -300]);
  assert.equal(a.sourceHash, "h1");
  assert.equal(await store.getPatient("nobody"), undefined);
  const back = await store.readVolume("p1", "hu");
  assert.deepEqual(back.shape, shape);
  assert.ok(Buffer.from(back.data.buffer).equals(Buffer.from(hu.data.buffer)));
  const m = await store.readVolume("p1", "mask");
  assert.ok(Buffer.from(m.data.buffer).equals(Buffer.from(mask.data.buffer)));

  const meta = JSON.parse(fs.readFileSync(path.join(dir, "patients/p1/hu/zarr.json"), "utf8"));
  assert.equal(meta.zarr_format, 3);
  assert.equal(meta.data_type, "int16");
  assert.equal(meta.fill_value, -1000);
  assert.deepEqual(meta.dimension_names, ["z", "y", "x"]);
  assert.deepEqual(meta.chunk_grid.configuration.chunk_shape, [8, 8, 8]);
  assert.deepEqual(
    meta.codecs.map((c: { name: string }) => c.name),
    ["bytes", "zstd", "crc32c"],
  );
  assert.equal(meta.codecs[1].configuration.level, 5);
  const group = JSON.parse(fs.readFileSync(path.join(dir, "patients/p1/zarr.json"), "utf8"));
  assert.equal(group.attributes.ome.version, "0.5");
  assert.deepEqual(
    group.attributes.ome.multiscales[0].axes.map(
      (x: { name: string; unit: string }) => `${x.name}:${x.unit}`,
    ),
    ["z:millimeter", "y:millimeter", "x:millimeter"],
  );
  const root = JSON.parse(fs.readFileSync(path.join(dir, "zarr.json"), "utf8"));
  assert.equal(root.attributes.lungflow.schema, 1);
  assert.deepEqual(root.attributes.lungflow.params, PARAMS);

  // plain zarrita (no lungflow code) reads the same values
  const arr = await zarr.open.v3(zarr.root(new FileSystemStore(dir)).resolve("patients/p1/hu"), {
    kind: "array",
  });
  const all = await zarr.get(arr);
  assert.deepEqual(Array.from(all.data as Int16Array), Array.from(hu.data));
});

test("readPatch equals a slow reference extraction (inside, across chunks, outside)", async () => {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS, cacheBytes: 6 * 1024 });
  const shape: Vec3 = [21, 18, 25];
  const { hu, mask } = volumes(shape, 7);
  await store.writePatient(
    { id: "p", hu, mask, source: source(shape), params: PARAMS },
    { chunk: [8, 7, 9] },
  );
  const rand = mulberry32(3);
  const ri = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo));
  for (let t = 0; t < 60; t++) {
    const size: Vec3 = [ri(1, 14), ri(1, 14), ri(1, 14)];
    const origin: Vec3 = [ri(-8, 26), ri(-8, 22), ri(-8, 30)];
    const array = t % 3 === 0 ? "mask" : "hu";
    const got = await store.readPatch("p", origin, size, { array });
    const want = refPatch(array === "hu" ? hu : mask, origin, size, array === "hu" ? -1000 : 0);
    assert.deepEqual(Array.from(got), want, `patch ${origin} ${size} ${array}`);
  }
  // Only the chunks a patch touches are decoded.
  const fresh = await openStore(dir);
  await fresh.readPatch("p", [1, 1, 1], [4, 4, 4]);
  assert.equal(fresh.cacheStats.misses, 1);
  await fresh.readPatch("p", [6, 5, 7], [4, 4, 4]); // straddles 2 x 2 x 2 chunks, one cached
  assert.equal(fresh.cacheStats.misses, 8);
  await fresh.readPatch("p", [-5, -5, -5], [3, 3, 3]); // wholly outside: no chunk
  assert.equal(fresh.cacheStats.misses, 8);
  const custom = await store.readPatch("p", [-2, 0, 0], [2, 2, 2], { fill: 7 });
  assert.deepEqual(Array.from(custom), [7, 7, 7, 7, 7, 7, 7, 7]);
  const st = store.cacheStats;
  assert.ok(st.bytes <= 6 * 1024, `cache bounded: ${st.bytes}`);
  assert.ok(st.hits > 0);
  await assert.rejects(
    store.readPatch("p", [0, 0, 0], [0, 4, 4]),
    (e) => isLungflowError(e) && e.code === "INVALID_ARGUMENT",
  );
  await assert.rejects(
    store.readPatch("zz", [0, 0, 0], [4, 4, 4]),
    (e) => isLungflowError(e) && e.code === "PATIENT_NOT_FOUND",
  );
});

test("open errors: missing store, other params, corrupt patient metadata", async () => {
  const base = tmpDir();
  await assert.rejects(
    openStore(path.join(base, "none.zarr")),
    (e) => isLungflowError(e, "StoreError") && e.code === "STORE_NOT_FOUND",
  );
  fs.mkdirSync(path.join(base, "notastore"));
  fs.writeFileSync(path.join(base, "notastore", "x.dcm"), "x");
  await assert.rejects(
    openStore(path.join(base, "notastore"), { create: true, params: PARAMS }),
    (e) => isLungflowError(e) && e.code === "STORE_INVALID" && /x\.dcm/.test(e.message),
  );
  const dir = path.join(base, "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const other = { ...PARAMS, maskMode: "improved" };
  await assert.rejects(openStore(dir, { params: other }), (e) => {
    assert.ok(isLungflowError(e) && e.code === "PARAMS_MISMATCH");
    assert.match(e.message, /maskMode/);
    return true;
  });
  const shape: Vec3 = [4, 4, 4];
  const { hu, mask } = volumes(shape);
  await assert.rejects(
    store.writePatient({ id: "p", hu, mask, source: source(shape), params: other }),
    (e) => isLungflowError(e) && e.code === "PARAMS_MISMATCH",
  );
  await assert.rejects(
    store.writePatient({ id: "../evil", hu, mask, source: source(shape), params: PARAMS }),
    (e) => isLungflowError(e) && e.code === "INVALID_PATIENT_ID",
  );
  await store.writePatient({ id: "p", hu, mask, source: source(shape), params: PARAMS });
  fs.writeFileSync(path.join(dir, "patients/p/zarr.json"), "{ not json");
  await assert.rejects(
    store.getPatient("p"),
    (e) => isLungflowError(e) && e.code === "PATIENT_CORRUPT",
  );
  const rep = await store.verify();
  assert.equal(rep.ok, false);
  assert.equal(rep.problems[0].code, "PATIENT_CORRUPT");
});

test("replacing a patient is atomic; recover() rolls forward a ready staging and drops partial ones", async () => {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [6, 5, 4];
  const v1 = volumes(shape, 1);
  const v2 = volumes(shape, 2);
  await store.writePatient({ id: "p", ...v1, source: source(shape, "a"), params: PARAMS });
  await store.writePatient({ id: "p", ...v2, source: source(shape, "b"), params: PARAMS });
  assert.equal((await store.getPatient("p"))?.sourceHash, "b");
  assert.deepEqual(Array.from((await store.readVolume("p", "hu")).data), Array.from(v2.hu.data));
  assert.deepEqual(await store.leftovers(), []);

  // Simulate a crash between the two renames of a replacement: the old version in .trash,
  // the new one complete in .staging, no patients/q.
  await store.writePatient({ id: "q", ...v1, source: source(shape, "new"), params: PARAMS });
  fs.mkdirSync(path.join(dir, ".staging"), { recursive: true });
  fs.renameSync(path.join(dir, "patients/q"), path.join(dir, ".staging/q~123-abcd.ready"));
  fs.mkdirSync(path.join(dir, ".staging/r~9-ffff/hu"), { recursive: true }); // a partial write
  fs.mkdirSync(path.join(dir, ".trash/q~123-abcd"), { recursive: true });
  assert.equal((await store.verify()).leftovers.length, 3);
  const r = await store.recover();
  assert.deepEqual(r.rolledForward, ["q"]);
  assert.deepEqual(await store.listPatients(), ["p", "q"]);
  assert.equal((await store.getPatient("q"))?.sourceHash, "new");
  assert.deepEqual(await store.leftovers(), []);
  assert.ok((await store.verify()).ok);
});

test("verify decodes every chunk and reports corruption and missing chunks", async () => {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [10, 12, 9];
  await store.writePatient(
    { id: "a", ...volumes(shape, 1), source: source(shape), params: PARAMS },
    { chunk: 5 },
  );
  await store.writePatient(
    { id: "b", ...volumes(shape, 2), source: source(shape), params: PARAMS },
    { chunk: 5 },
  );
  const clean = await store.verify();
  assert.equal(clean.ok, true);
  assert.equal(clean.patients, 2);
  assert.equal(clean.chunks, 2 * 2 * (2 * 3 * 2));
  // flip one byte in the middle of a chunk (zstd might still decode: the crc32c catches it)
  const chunkFile = path.join(dir, "patients/a/hu/c/1/1/0");
  const buf = fs.readFileSync(chunkFile);
  buf[Math.floor(buf.length / 2)] ^= 0x10;
  fs.writeFileSync(chunkFile, buf);
  fs.unlinkSync(path.join(dir, "patients/b/mask/c/0/2/1"));
  const fresh = await openStore(dir);
  const rep = await fresh.verify();
  assert.equal(rep.ok, false);
  const codes = rep.problems.map((p) => `${p.patientId}:${p.code}`).sort();
  assert.deepEqual(codes, ["a:CHUNK_DECODE", "b:MISSING_CHUNK"]);
  assert.match(rep.problems.find((p) => p.code === "CHUNK_DECODE")?.message ?? "", /crc32c/);
  await assert.rejects(fresh.readVolume("a", "hu"), (e) => {
    assert.ok(isLungflowError(e, "ChunkDecodeError"));
    assert.equal(e.context.chunkPath, chunkFile);
    assert.equal(e.context.codec, "crc32c");
    assert.equal(e.context.direction, "decode");
    return true;
  });
});

test("the write lock excludes a second holder and breaks a stale one", async () => {
  const dir = path.join(tmpDir(), "s.zarr");
  const s1 = await openStore(dir, { create: true, params: PARAMS });
  const s2 = await openStore(dir);
  const l1 = await s1.lock({ purpose: "test" });
  await assert.rejects(
    s2.lock(),
    (e) => isLungflowError(e) && e.code === "STORE_LOCKED" && /pid/.test(e.message),
  );
  const again = await s1.lock(); // re-entrant
  await again.release();
  await assert.rejects(s2.lock(), (e) => isLungflowError(e) && e.code === "STORE_LOCKED");
  await l1.release();
  const l2 = await s2.lock();
  await l2.release();
  // a lock left by a dead process
  fs.writeFileSync(
    path.join(dir, ".lock"),
    JSON.stringify({
      pid: 2 ** 22 + 12345,
      hostname: (await import("node:os")).hostname(),
      acquiredAt: "x",
      purpose: "dead",
    }),
  );
  const l3 = await s2.lock();
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, ".lock"), "utf8")).pid, process.pid);
  await l3.release();
  assert.equal(fs.existsSync(path.join(dir, ".lock")), false);
});
