import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { isLungflowError, mulberry32, type Vec3 } from "@lungflow/volume";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { writeFeatures } from "../src/features/write-features.ts";
import { type FeatureShape, openStore, type PatchStore } from "../src/index.ts";
import { featureData, PARAMS, source, tmpDir, volumes } from "./helpers.ts";

const CHILD = fileURLToPath(new URL("./fixtures/features-child.ts", import.meta.url));

async function storeWithPatient(ids = ["p"], shape: Vec3 = [6, 5, 4]): Promise<PatchStore> {
  const dir = path.join(tmpDir("feat-"), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  for (const id of ids) {
    await store.writePatient({
      id,
      ...volumes(shape),
      source: source(shape, `h-${id}`),
      params: PARAMS,
    });
  }
  return store;
}

const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  );

test("features round trip exactly (odd shapes, C = 1, many chunks); valid Zarr v3 for plain zarrita", async () => {
  const store = await storeWithPatient();
  const cases: [number, FeatureShape, number | undefined][] = [
    [0, [5, 7, 9, 3], undefined], // one chunk (16 clamped to the shape)
    [1, [5, 7, 9, 1], 4], // C = 1, 2x2x3 chunks with ragged edges
    [47, [17, 3, 18, 16], 8],
  ];
  for (const [k, shape, chunk] of cases) {
    const f = featureData(shape, k + 10);
    const attrs = await store.writeFeatures("p", "enc-1", k, f, { stride: 4, k }, { chunk });
    assert.equal(attrs.patientSourceHash, "h-p");
    const back = await store.readFeatures("p", "enc-1", k);
    assert.ok(back);
    assert.deepEqual(back.shape, shape);
    assert.ok(same(back.data, f.data), `s${k} differs`);
    assert.equal(back.attrs.symmetry, k);
    assert.deepEqual(back.attrs.meta, { stride: 4, k });
    assert.equal(back.attrs.patientIngestedAt, (await store.getPatient("p"))?.ingestedAt);
  }
  const arrDir = path.join(store.root, "patients/p/features/enc-1/s1");
  const meta = JSON.parse(fs.readFileSync(path.join(arrDir, "zarr.json"), "utf8"));
  assert.equal(meta.data_type, "float32");
  assert.deepEqual(meta.shape, [5, 7, 9, 1]);
  assert.deepEqual(meta.chunk_grid.configuration.chunk_shape, [4, 4, 4, 1]);
  assert.deepEqual(meta.dimension_names, ["z", "y", "x", "c"]);
  assert.deepEqual(
    meta.codecs.map((c: { name: string }) => c.name),
    ["bytes", "zstd", "crc32c"],
  );
  const s0 = JSON.parse(
    fs.readFileSync(path.join(store.root, "patients/p/features/enc-1/s0/zarr.json"), "utf8"),
  );
  assert.deepEqual(s0.chunk_grid.configuration.chunk_shape, [5, 7, 9, 3]);
  // Plain zarrita (no lungflow code) reads the same values through the group hierarchy.
  const loc = zarr.root(new FileSystemStore(store.root));
  const g = await zarr.open.v3(loc.resolve("patients/p/features/enc-1"), { kind: "group" });
  assert.deepEqual(g.attrs, { encoderId: "enc-1", meta: { stride: 4 } }); // k differs: not common
  await zarr.open.v3(loc.resolve("patients/p/features"), { kind: "group" });
  const plain = await zarr.get(
    await zarr.open.v3(loc.resolve("patients/p/features/enc-1/s47"), { kind: "array" }),
  );
  assert.ok(same(plain.data as Float32Array, featureData([17, 3, 18, 16], 57).data));

  assert.deepEqual(await store.listFeatures("p"), [
    { encoderId: "enc-1", symmetries: [0, 1, 47], meta: { stride: 4 } },
  ]);
  assert.deepEqual(await store.listFeatures("nobody"), []);
  assert.deepEqual(await store.leftovers(), []);
  const rep = await store.verify();
  assert.ok(rep.ok, JSON.stringify(rep.problems));
  assert.equal(rep.features.arrays, 3);
  assert.equal(rep.features.sets, 1);
  assert.equal(rep.features.chunks, 1 + 12 + 3 * 1 * 3);
});

test("replace, list, featureSets, remove; absent is undefined; re-ingest drops features", async () => {
  const store = await storeWithPatient(["a", "b"]);
  const v1 = featureData([4, 4, 4, 2], 1);
  const v2 = featureData([3, 5, 4, 2], 2);
  await store.writeFeatures("a", "enc", 3, v1, { stride: 2, run: 1 });
  await store.writeFeatures("a", "enc", 3, v2, { stride: 2, run: 2 });
  const back = await store.readFeatures("a", "enc", 3);
  assert.ok(back && same(back.data, v2.data));
  assert.deepEqual(back.shape, [3, 5, 4, 2]);
  assert.deepEqual(back.attrs.meta, { stride: 2, run: 2 });
  assert.deepEqual((await store.listFeatures("a"))[0].meta, { stride: 2 });
  assert.deepEqual(await store.leftovers(), []);

  for (let k = 0; k < 48; k++)
    await store.writeFeatures("b", "enc", k, featureData([1, 1, 2, 1], k));
  await store.writeFeatures("b", "other", 5, featureData([2, 2, 2, 2], 9));
  assert.deepEqual(await store.featureSets(), [
    { encoderId: "enc", patients: 2, arrays: 49, complete: 1, symmetries: [...Array(48).keys()] },
    { encoderId: "other", patients: 1, arrays: 1, complete: 0, symmetries: [5] },
  ]);

  assert.equal(await store.readFeatures("a", "enc", 4), undefined);
  assert.equal(await store.readFeatures("a", "nope", 3), undefined);
  assert.equal(await store.readFeatures("zz", "enc", 3), undefined);
  assert.equal(await store.removeFeatures("b", "other"), true);
  assert.equal(await store.removeFeatures("b", "other"), false);
  assert.equal(await store.readFeatures("b", "other", 5), undefined);
  assert.equal(await store.removeFeatures("b"), true);
  assert.deepEqual(await store.listFeatures("b"), []);

  // Re-ingesting a patient replaces its whole group: its features go with the old volume.
  const shape: Vec3 = [6, 5, 4];
  await store.writePatient({
    id: "a",
    ...volumes(shape, 3),
    source: source(shape, "new"),
    params: PARAMS,
  });
  assert.equal(await store.readFeatures("a", "enc", 3), undefined);
  assert.deepEqual(await store.featureSets(), []);
  assert.ok((await store.verify()).ok);
});

test("bad input is refused with typed errors and nothing is written", async () => {
  const store = await storeWithPatient();
  const f = featureData([2, 3, 4, 5], 1);
  const rejects = async (p: Promise<unknown>, code: string, re?: RegExp) =>
    assert.rejects(p, (e) => {
      assert.ok(isLungflowError(e, "StoreError"), String(e));
      assert.equal(e.code, code);
      if (re) assert.match(e.message, re);
      return true;
    });
  for (const enc of ["../x", ".hidden", "a~b", "", "a/b"])
    await rejects(store.writeFeatures("p", enc, 0, f), "INVALID_ENCODER_ID");
  for (const k of [-1, 48, 1.5, Number.NaN])
    await rejects(store.writeFeatures("p", "enc", k, f), "INVALID_ARGUMENT", /0\.\.47/);
  await rejects(store.writeFeatures("../p", "enc", 0, f), "INVALID_PATIENT_ID");
  await rejects(
    store.writeFeatures("p", "enc", 0, { data: f.data, shape: [2, 3, 4, 4] }),
    "INVALID_ARGUMENT",
    /120 values, shape 2x3x4x4 needs 96/,
  );
  await rejects(
    store.writeFeatures("p", "enc", 0, {
      data: f.data,
      shape: [2, 3, 20] as unknown as FeatureShape,
    }),
    "INVALID_ARGUMENT",
  );
  await rejects(
    store.writeFeatures("p", "enc", 0, {
      data: new Float64Array(120) as unknown as Float32Array,
      shape: [2, 3, 4, 5],
    }),
    "INVALID_ARGUMENT",
    /Float32Array/,
  );
  await rejects(store.writeFeatures("p", "enc", 0, f, {}, { zstdLevel: 0 }), "INVALID_ARGUMENT");
  const nan = featureData([2, 3, 4, 5], 1);
  nan.data[((0 * 3 + 2) * 4 + 3) * 5 + 4] = Number.NaN;
  nan.data[119 - 1] = Number.POSITIVE_INFINITY;
  await assert.rejects(store.writeFeatures("p", "enc", 7, nan), (e) => {
    assert.ok(isLungflowError(e, "StoreError") && e.code === "FEATURES_NOT_FINITE");
    assert.match(e.message, /patient p, encoder enc, symmetry 7: 2 value\(s\)/);
    assert.deepEqual(e.context.first, [0, 2, 3, 4]);
    assert.match(e.message, /first NaN at \[z,y,x,c\] = \[0,2,3,4\]/);
    return true;
  });
  await rejects(store.writeFeatures("nobody", "enc", 0, f), "PATIENT_NOT_FOUND");
  await rejects(
    store.writeFeatures("p", "enc", 0, f, {}, { expectSourceHash: "stale" }),
    "SOURCE_CHANGED",
    /re-ingested/,
  );
  assert.deepEqual(await store.listFeatures("p"), []);
  assert.equal(fs.existsSync(path.join(store.root, "patients/p/features")), false);
  assert.deepEqual(await store.leftovers(), []);
  await store.writeFeatures("p", "enc", 0, f, {}, { expectSourceHash: "h-p" });
  assert.ok(await store.readFeatures("p", "enc", 0));
});

test("a patient re-ingested while its features are written: SOURCE_CHANGED, nothing published", async () => {
  const store = await storeWithPatient();
  const real = await store.getPatient("p");
  assert.ok(real);
  let calls = 0;
  // The second look (after the array is staged) sees another ingest of the patient.
  const view = {
    root: store.root,
    getPatient: async () => (calls++ === 0 ? real : { ...real, ingestedAt: "later" }),
  };
  await assert.rejects(
    writeFeatures(view, "p", "enc", 2, featureData([3, 3, 3, 3], 1)),
    (e) => isLungflowError(e) && e.code === "SOURCE_CHANGED",
  );
  assert.equal(await store.readFeatures("p", "enc", 2), undefined);
  assert.deepEqual(await store.leftovers(), []);
});

test("a corrupt or missing chunk is found by readFeatures and verify, naming the array", async () => {
  const store = await storeWithPatient(["p", "q"]);
  await store.writeFeatures("p", "enc", 4, featureData([8, 8, 8, 4], 1), {}, { chunk: 4 });
  await store.writeFeatures("q", "enc", 5, featureData([8, 8, 8, 4], 2), {}, { chunk: 4 });
  await store.writeFeatures("q", "enc", 6, featureData([4, 4, 4, 2], 3));
  const chunkFile = path.join(store.root, "patients/p/features/enc/s4/c/1/0/1/0");
  const buf = fs.readFileSync(chunkFile);
  buf[Math.floor(buf.length / 2)] ^= 0x10;
  fs.writeFileSync(chunkFile, buf);
  const missing = path.join(store.root, "patients/q/features/enc/s5/c/0/1/1/0");
  fs.unlinkSync(missing);
  await assert.rejects(store.readFeatures("p", "enc", 4), (e) => {
    assert.ok(isLungflowError(e, "ChunkDecodeError"));
    assert.equal(e.context.chunkPath, chunkFile);
    assert.equal(e.context.codec, "crc32c");
    assert.equal(e.context.array, "features/enc/s4");
    return true;
  });
  await assert.rejects(
    store.readFeatures("q", "enc", 5),
    (e) => isLungflowError(e) && e.code === "CHUNK_MISSING" && e.context.chunkPath === missing,
  );
  // A NaN that bypassed the writer, and features left from an older ingest of q.
  const s6 = await zarr.open.v3(
    zarr.root(new FileSystemStore(store.root)).resolve("patients/q/features/enc/s6"),
    { kind: "array" },
  );
  // biome-ignore lint/suspicious/noExplicitAny: zarrita's dtype-generic set
  await zarr.set(s6 as any, [1, 2, 3, 1], Number.NaN);
  const metaFile = path.join(store.root, "patients/q/features/enc/s6/zarr.json");
  const m = JSON.parse(fs.readFileSync(metaFile, "utf8"));
  m.attributes.patientSourceHash = "older";
  fs.writeFileSync(metaFile, JSON.stringify(m));
  const rep = await store.verify();
  assert.equal(rep.ok, false);
  const got = rep.problems.map((p) => `${p.patientId}:${p.array}:${p.code}`).sort();
  assert.deepEqual(got, [
    "p:features/enc/s4:CHUNK_DECODE",
    "q:features/enc/s5:MISSING_CHUNK",
    "q:features/enc/s6:FEATURES_NOT_FINITE",
    "q:features/enc/s6:FEATURES_STALE",
  ]);
  assert.equal(rep.problems.find((p) => p.code === "CHUNK_DECODE")?.path, chunkFile);
  assert.match(
    rep.problems.find((p) => p.code === "FEATURES_NOT_FINITE")?.message ?? "",
    /^features\/enc\/s6: 1 value/,
  );
  // Metadata damage is reported too (and read refuses it).
  fs.writeFileSync(metaFile, "{ nope");
  await assert.rejects(
    store.readFeatures("q", "enc", 6),
    (e) => isLungflowError(e) && e.code === "FEATURES_CORRUPT" && /s6/.test(e.message),
  );
  assert.ok(
    (await store.verify()).problems.some(
      (p) => p.code === "FEATURES_INVALID" && p.array === "features/enc/s6",
    ),
  );
});

test("recover() rolls forward a finished staged array of an unchanged patient and drops the rest", async () => {
  const store = await storeWithPatient(["p", "q"]);
  const f = featureData([3, 4, 5, 2], 4);
  await store.writeFeatures("p", "enc", 1, f, { stride: 4 });
  await store.writeFeatures("q", "enc", 1, f, { stride: 4 });
  const staging = path.join(store.root, ".staging");
  fs.mkdirSync(staging, { recursive: true });
  // p: killed between the two renames of a replacement (old one already in .trash).
  fs.renameSync(
    path.join(store.root, "patients/p/features/enc/s1"),
    path.join(staging, "features~p~enc~s1~1-aaaa.ready"),
  );
  fs.mkdirSync(path.join(store.root, ".trash/features~p~enc~s1~1-aaaa"), { recursive: true });
  // q: a finished array whose patient was re-ingested since: must not be moved in.
  const shape: Vec3 = [6, 5, 4];
  fs.renameSync(
    path.join(store.root, "patients/q/features/enc/s1"),
    path.join(staging, "features~q~enc~s1~2-bbbb.ready"),
  );
  await store.writePatient({
    id: "q",
    ...volumes(shape, 9),
    source: source(shape, "q2"),
    params: PARAMS,
  });
  fs.mkdirSync(path.join(store.root, "patients/q/features/enc"), { recursive: true });
  fs.writeFileSync(
    path.join(store.root, "patients/q/features/enc/zarr.json"),
    JSON.stringify({
      zarr_format: 3,
      node_type: "group",
      attributes: { encoderId: "enc", meta: {} },
    }),
  );
  fs.writeFileSync(
    path.join(store.root, "patients/q/features/zarr.json"),
    JSON.stringify({ zarr_format: 3, node_type: "group", attributes: {} }),
  );
  // Partial writes: a staging folder and half-made groups.
  fs.mkdirSync(path.join(staging, "features~p~enc~s2~3-cccc/c/0"), { recursive: true });
  fs.mkdirSync(path.join(store.root, "patients/p/.features~4-dddd.tmp"));
  fs.mkdirSync(path.join(store.root, "patients/p/features/.enc2~5-eeee.tmp"));
  fs.writeFileSync(path.join(store.root, "patients/p/features/enc/.zarr.json.6-ffff.tmp"), "{");
  const before = (await store.leftovers()).sort();
  assert.deepEqual(before, [
    ".staging/features~p~enc~s1~1-aaaa.ready",
    ".staging/features~p~enc~s2~3-cccc",
    ".staging/features~q~enc~s1~2-bbbb.ready",
    ".trash/features~p~enc~s1~1-aaaa",
    "patients/p/.features~4-dddd.tmp",
    "patients/p/features/.enc2~5-eeee.tmp",
    "patients/p/features/enc/.zarr.json.6-ffff.tmp",
  ]);
  const lock = await store.lock({ purpose: "test" });
  const r = await store.recover();
  await lock.release();
  assert.deepEqual(r.rolledForward, ["patients/p/features/enc/s1"]);
  assert.equal(r.removed.length, 6);
  assert.deepEqual(await store.leftovers(), []);
  const back = await store.readFeatures("p", "enc", 1);
  assert.ok(back && same(back.data, f.data));
  assert.equal(await store.readFeatures("q", "enc", 1), undefined);
  const rep = await store.verify();
  assert.ok(rep.ok, JSON.stringify(rep.problems));
});

/** Runs the writer child; SIGKILLs it `killAfterMs` after it took the lock. */
function runChild(
  storePath: string,
  firstSeed: number,
  killAfterMs: number,
): Promise<{ signal: string | null; code: number | null; lines: string[]; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", CHILD, storePath, String(firstSeed)],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const lines: string[] = [];
    let buf = "";
    let err = "";
    child.stdout.on("data", (d) => {
      buf += d;
      const parts = buf.split("\n");
      buf = parts.pop() ?? "";
      for (const l of parts) {
        lines.push(l);
        if (l === "ready") setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, lines, err }));
  });
}

test("SIGKILL at random moments of feature writes: every s<k> absent or complete and equal to a write", async (tc) => {
  const store = await storeWithPatient();
  const rand = mulberry32(77);
  const lastPrinted = new Map<number, number>();
  let interrupted = 0;
  let writes = 0;
  let rolledForward = 0;
  const TRIALS = 10;
  for (let t = 0; t < TRIALS; t++) {
    const first = (t + 1) * 1_000_000;
    const at = Math.round(10 + 290 * rand());
    const r = await runChild(store.root, first, at);
    assert.equal(r.signal, "SIGKILL", `trial ${t}: exited ${r.code}: ${r.err}`);
    for (const l of r.lines.filter((x) => x.startsWith("wrote "))) {
      const [, k, seed] = l.split(" ").map(Number);
      lastPrinted.set(k, seed);
      writes++;
    }
    if ((await store.leftovers()).length) interrupted++;
    const lock = await store.lock({ purpose: "test" }); // breaks the dead child's lock
    rolledForward += (await store.recover()).rolledForward.length;
    await lock.release();
    const v = await store.verify();
    assert.ok(v.ok, `trial ${t} (kill at ${at} ms): ${JSON.stringify(v.problems)}`);
    assert.deepEqual(v.leftovers, []);
    for (let k = 0; k < 4; k++) {
      const got = await store.readFeatures("p", "enc-a", k);
      const printed = lastPrinted.get(k);
      if (!got) {
        assert.equal(printed, undefined, `trial ${t}: s${k} vanished after write ${printed}`);
        continue;
      }
      const seed = got.attrs.meta.seed as number;
      assert.equal(seed % 4, k);
      assert.ok(
        printed === undefined || seed >= printed,
        `trial ${t}: s${k} is older than a finished write`,
      );
      const want = featureData(got.shape, seed);
      assert.deepEqual(got.shape, [3 + (seed % 5), 9, 10, 1 + (seed % 3) * 4]);
      assert.ok(same(got.data, want.data), `trial ${t}: s${k} (seed ${seed}) differs`);
    }
  }
  tc.diagnostic(
    `${writes} writes finished, ${interrupted} of ${TRIALS} kills left a write behind, ${rolledForward} finished write(s) rolled forward`,
  );
  assert.ok(writes > 0, "no write finished before a kill: the kills came too early");
  assert.ok(interrupted >= 3, `only ${interrupted} of ${TRIALS} kills interrupted a write`);
});
