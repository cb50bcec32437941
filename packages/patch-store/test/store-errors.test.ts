import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { isLungflowError, type Vec3 } from "@lungflow/volume";
import { Crc32cCodec } from "../src/crc32c.ts";
import { openStore, StoreError } from "../src/index.ts";
import { PARAMS, source, tmpDir, volumes } from "./helpers.ts";

const isChecksum = (e: unknown): e is StoreError =>
  e instanceof StoreError && isLungflowError(e, "StoreError") && e.code === "CHUNK_CHECKSUM";

test("crc32c codec: a chunk too short for its checksum is CHUNK_CHECKSUM (too-short)", () => {
  const codec = new Crc32cCodec();
  assert.throws(
    () => codec.decode(new Uint8Array([1, 2, 3])),
    (e) => {
      assert.ok(isChecksum(e));
      assert.deepEqual(e.context, { codec: "crc32c", reason: "too-short", bytes: 3 });
      assert.match(e.message, /3 bytes is too short to hold a crc32c/);
      return true;
    },
  );
});

test("crc32c codec: a flipped bit is CHUNK_CHECKSUM (mismatch) with both sums; intact bytes pass", () => {
  const codec = new Crc32cCodec();
  const body = new Uint8Array([5, 6, 7, 8, 9, 10, 11, 12, 13]);
  const enc = codec.encode(body);
  assert.deepEqual(codec.decode(enc), body);
  const bad = enc.slice();
  bad[4] ^= 0x01;
  assert.throws(
    () => codec.decode(bad),
    (e) => {
      assert.ok(isChecksum(e));
      assert.equal(e.context.reason, "mismatch");
      assert.equal(e.context.bytes, enc.length);
      const stored = new DataView(bad.buffer).getUint32(body.length, true);
      assert.equal(e.context.stored, stored);
      assert.notEqual(e.context.computed, stored);
      assert.match(e.message, /crc32c mismatch: stored [0-9a-f]{8}, computed [0-9a-f]{8}/);
      return true;
    },
  );
});

async function storeWithPatient(): Promise<{ dir: string; shape: Vec3 }> {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [10, 12, 9];
  await store.writePatient(
    { id: "a", ...volumes(shape, 1), source: source(shape), params: PARAMS },
    { chunk: 5 },
  );
  return { dir, shape };
}

function editArrayMeta(dir: string, array: string, edit: (m: Record<string, unknown>) => void) {
  const file = path.join(dir, "patients/a", array, "zarr.json");
  const meta = JSON.parse(fs.readFileSync(file, "utf8"));
  edit(meta);
  fs.writeFileSync(file, JSON.stringify(meta));
}

test("a read of a corrupt chunk: ChunkDecodeError whose cause is the CHUNK_CHECKSUM StoreError", async () => {
  const { dir } = await storeWithPatient();
  const file = path.join(dir, "patients/a/hu/c/0/0/0");
  fs.writeFileSync(file, new Uint8Array([1, 2]));
  const store = await openStore(dir);
  await assert.rejects(store.readPatch("a", [0, 0, 0], [2, 2, 2], { cache: false }), (e) => {
    assert.ok(isLungflowError(e, "ChunkDecodeError"));
    assert.equal(e.context.chunkPath, file);
    assert.ok(isChecksum(e.cause));
    assert.equal(e.cause.context.reason, "too-short");
    return true;
  });
});

test("arrays of the wrong dtype: PATIENT_CORRUPT naming both dtypes", async () => {
  const { dir } = await storeWithPatient();
  editArrayMeta(dir, "mask", (m) => {
    m.data_type = "int16";
  });
  const store = await openStore(dir);
  await assert.rejects(store.readVolume("a", "hu"), (e) => {
    assert.ok(e instanceof StoreError && e.code === "PATIENT_CORRUPT");
    assert.deepEqual(e.context, {
      patientId: "a",
      dtypes: ["int16", "int16"],
      expected: ["int16", "uint8"],
    });
    assert.match(e.message, /patient a: arrays unreadable: dtypes int16\/int16/);
    return true;
  });
});

test("an array whose shape differs from the attributes: PATIENT_CORRUPT naming the array and both shapes", async () => {
  const { dir, shape } = await storeWithPatient();
  editArrayMeta(dir, "mask", (m) => {
    m.shape = [10, 12, 8];
  });
  const store = await openStore(dir);
  await assert.rejects(store.readPatch("a", [0, 0, 0], [2, 2, 2]), (e) => {
    assert.ok(e instanceof StoreError && e.code === "PATIENT_CORRUPT");
    assert.deepEqual(e.context, {
      patientId: "a",
      array: "mask",
      shape: [10, 12, 8],
      expected: shape,
    });
    assert.match(e.message, /array shape 10x12x8 differs from attrs shape 10x12x9/);
    return true;
  });
});
