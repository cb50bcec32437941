import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import type { Vec3 } from "@lungflow/volume";
import { openStore } from "../src/index.ts";
import { verifyStore } from "../src/verify.ts";
import type { VerifySource } from "../src/verify-source.ts";
import { PARAMS, source, tmpDir, volumes } from "./helpers.ts";

test("verifyStore reads only through VerifySource: a plain object gives the report PatchStore.verify gives", async () => {
  const dir = path.join(tmpDir(), "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [10, 12, 9];
  for (const [id, seed] of [
    ["a", 1],
    ["b", 2],
  ] as const) {
    await store.writePatient(
      { id, ...volumes(shape, seed), source: source(shape), params: PARAMS },
      { chunk: 5 },
    );
  }
  await store.importLabels("id,cancer\na,1\nb,0\n");
  fs.unlinkSync(path.join(dir, "patients/b/mask/c/0/2/1"));
  fs.mkdirSync(path.join(dir, ".trash", "x~rm-1-1"), { recursive: true });
  // Only the interface's members, bound: no private field of PatchStore is reachable.
  const calls = new Set<string>();
  const seen = <T>(name: string, v: T): T => {
    calls.add(name);
    return v;
  };
  const view: VerifySource = {
    root: store.root,
    rootAttrs: { labels: { ...store.rootAttrs.labels, ghost: 1 }, split: undefined },
    listPatients: () => seen("listPatients", store.listPatients()),
    getPatient: (id) => seen("getPatient", store.getPatient(id)),
    chunkPath: (id, array, coords) => seen("chunkPath", store.chunkPath(id, array, coords)),
    readChunk: (id, array, coords, opts) =>
      seen("readChunk", store.readChunk(id, array, coords, opts)),
    leftovers: () => seen("leftovers", store.leftovers()),
  };
  const viaView = await verifyStore(view);
  const viaStore = await store.verify();
  assert.deepEqual([...calls].sort(), [
    "chunkPath",
    "getPatient",
    "leftovers",
    "listPatients",
    "readChunk",
  ]);
  assert.equal(viaView.ok, false);
  assert.deepEqual(
    viaView.problems.map((p) => `${p.patientId}:${p.code}`),
    ["b:MISSING_CHUNK"],
  );
  assert.deepEqual(viaView.leftovers, [path.join(".trash", "x~rm-1-1")]);
  assert.deepEqual(viaView.warnings, ["1 label(s) for patients not in the store: ghost"]);
  // Same report as the store's own verify, but for the warning the view's labels add.
  assert.deepEqual({ ...viaView, warnings: [] }, { ...viaStore, warnings: [] });
  assert.deepEqual(viaStore.warnings, []);
});
