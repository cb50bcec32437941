import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { isLungflowError, type Vec3 } from "@lungflow/volume";
import type { MemorySource } from "../src/patches/source.ts";
import { loadPatient } from "../src/patches/worker-cache.ts";

const shape: Vec3 = [2, 3, 4];
const source = (hu: Int16Array, mask?: Uint8Array): MemorySource => ({
  kind: "memory",
  patients: [{ id: "p", shape, hu, mask }],
});
const HU = { hu: true, mask: false };

test("what a worker cannot load is a PatchStreamError naming the patient and the array", async () => {
  const is = (code: string, context: Record<string, unknown>) => (e: unknown) =>
    isLungflowError(e, "PatchStreamError") &&
    e.code === code &&
    Object.entries(context).every(([k, v]) => e.context[k] === v);
  const hu = new Int16Array(new SharedArrayBuffer(2 * 24));
  assert.equal((await loadPatient(source(hu), "p", HU, 0)).hu?.length, 24);
  await assert.rejects(
    loadPatient(source(new Int16Array(new SharedArrayBuffer(2 * 23))), "p", HU, 0),
    is("BAD_ARRAY", { patientId: "p", array: "hu", voxels: 23 }),
  );
  await assert.rejects(
    loadPatient(source(hu), "p", { hu: false, mask: true }, 0),
    is("BAD_ARRAY", { patientId: "p", array: "mask" }),
  );
  await assert.rejects(
    loadPatient(source(hu), "q", HU, 0),
    is("UNKNOWN_PATIENT", { patientId: "q" }),
  );
  await assert.rejects(
    loadPatient(source(hu), "q", { hu: false, mask: false }, 0),
    is("UNKNOWN_PATIENT", { patientId: "q" }),
  );

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "worker-cache-"));
  try {
    const store = path.join(dir, "s.zarr");
    const params: PreprocessingParams = {
      spacing: [1, 1, 1],
      interpolation: "trilinear",
      thresholdMethod: "otsu",
      maskMode: "kdsb17",
      kernels: {},
      tailFraction: 0.005,
    };
    await openStore(store, { create: true, params });
    await assert.rejects(
      loadPatient({ kind: "store", path: store }, "nobody", { hu: false, mask: false }, 0),
      is("UNKNOWN_PATIENT", { patientId: "nobody", store }),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
