import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import { parsePredictionsCsv, startViewer, type ViewerServer } from "../src/index.ts";
import { ENCODER, makeViewerStore } from "./fixtures.ts";

const dir = mkdtempSync(path.join(tmpdir(), "viewer-server-"));
let viewer: ViewerServer;
let store: PatchStore;
before(async () => {
  const made = await makeViewerStore(dir);
  store = await openStore(made.store);
  viewer = await startViewer({ store: made.store });
});
after(async () => {
  await viewer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const get = (p: string) => fetch(new URL(p, viewer.url));

test("listens on the loopback interface only", () => {
  assert.match(viewer.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

test("a slice is the stored box, row by row, in each plane", async () => {
  const a = await store.getPatient("good");
  assert.ok(a);
  const [nz, ny, nx] = a.shape;
  const cases = [
    ["axial", 7, [7, 0, 0], [1, ny, nx], ny, nx],
    ["coronal", 40, [0, 40, 0], [nz, 1, nx], nz, nx],
    ["sagittal", 50, [0, 0, 50], [nz, ny, 1], nz, ny],
  ] as const;
  for (const [plane, i, o, s, rows, cols] of cases) {
    for (const array of ["hu", "mask"] as const) {
      const res = await get(`/api/patients/good/slice?plane=${plane}&index=${i}&array=${array}`);
      assert.equal(res.status, 200);
      assert.equal(Number(res.headers.get("x-rows")), rows);
      assert.equal(Number(res.headers.get("x-cols")), cols);
      const buf = await res.arrayBuffer();
      const got = array === "hu" ? new Int16Array(buf) : new Uint8Array(buf);
      assert.deepEqual(got, await store.readPatch("good", [...o], [...s], { array }));
    }
  }
});

test("bad requests are 400, missing things 404, damage 500, each a typed JSON error", async () => {
  const code = async (p: string) => {
    const res = await get(p);
    return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
  };
  assert.deepEqual(await code("/api/patients/good/slice?plane=oblique&index=0"), [
    400,
    "BAD_REQUEST",
  ]);
  assert.deepEqual(await code("/api/patients/good/slice?plane=axial&index=999"), [
    400,
    "BAD_REQUEST",
  ]);
  assert.deepEqual(await code("/api/patients/good/slice?plane=axial&index=1.5"), [
    400,
    "BAD_REQUEST",
  ]);
  assert.deepEqual(await code("/api/patients/nobody"), [404, "PATIENT_NOT_FOUND"]);
  assert.deepEqual(
    await code("/api/patients/other/slice?plane=axial&index=0&array=features&encoder=none"),
    [404, "FEATURES_UNAVAILABLE"],
  );
  const a = await store.getPatient("bad");
  assert.ok(a);
  const mid = Math.floor(a.shape[0] / 2);
  assert.deepEqual(await code(`/api/patients/bad/slice?plane=axial&index=${mid}`), [
    500,
    "CHUNK_DECODE",
  ]);
});

test("the feature magnitude slice is on the feature grid with the patient's maximum", async () => {
  const res = await get(
    `/api/patients/good/slice?plane=axial&index=0&array=features&encoder=${ENCODER}`,
  );
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-rows"), "12");
  assert.equal(res.headers.get("x-cols"), "12");
  // Every channel holds the feature voxel's x index: |f| = 2 x (4 channels).
  assert.equal(Number(res.headers.get("x-max")), 22);
  const row = Array.from(new Float32Array(await res.arrayBuffer()).slice(0, 12));
  assert.deepEqual(
    row,
    [...Array(12).keys()].map((x) => 2 * x),
  );
});

test("predictions CSV: probabilities per id; every bad line reported", () => {
  assert.deepEqual(
    [...parsePredictionsCsv("id,cancer\na,0.25\nb,1\n", "p.csv")],
    [
      ["a", 0.25],
      ["b", 1],
    ],
  );
  assert.throws(
    () => parsePredictionsCsv("id,cancer\na,1.5\na,0.1\na,0.2\n,0.3\n", "p.csv"),
    (e: Error & { code?: string }) =>
      e.code === "PREDICTIONS_INVALID" &&
      /line 2/.test(e.message) &&
      /line 4: duplicate id a/.test(e.message) &&
      /line 5/.test(e.message),
  );
});
