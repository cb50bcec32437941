import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { openStore } from "../src/index.ts";
import { PARAMS, source, tmpDir, volumes } from "./helpers.ts";

const dir = tmpDir("ps-ome-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

test("a written patient exposes its mask as the OME-NGFF label image labels/mask", async () => {
  const s = await openStore(path.join(dir, "a.zarr"), { create: true, params: PARAMS });
  const lock = await s.lock({ purpose: "test" });
  const shape: [number, number, number] = [9, 20, 21];
  const { hu, mask } = volumes(shape);
  await s.writePatient({ id: "p", hu, mask, source: source(shape), params: PARAMS }, { chunk: 8 });
  await lock.release();
  const group = path.join(s.root, "patients", "p");
  const json = (p: string) => JSON.parse(fs.readFileSync(path.join(group, p, "zarr.json"), "utf8"));
  assert.deepEqual(json("labels").attributes.ome.labels, ["mask"]);
  const label = json("labels/mask").attributes.ome;
  assert.deepEqual(label["image-label"].source, { image: "../../" });
  // Same grid as the image: the image's transformations with dataset path "0".
  const image = json("").attributes.ome.multiscales[0].datasets[0];
  assert.deepEqual(label.multiscales[0].datasets[0], { ...image, path: "0" });
  assert.deepEqual(
    { ...json("labels/mask/0"), attributes: {} },
    { ...json("mask"), attributes: {} },
  );
  // Every chunk of the label is the mask's chunk file (a hard link: no extra bytes).
  const chunks = fs
    .readdirSync(path.join(group, "mask", "c"), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile());
  assert.equal(chunks.length, 2 * 3 * 3);
  for (const c of chunks) {
    const rel = path.relative(path.join(group, "mask"), path.join(c.parentPath, c.name));
    const a = fs.statSync(path.join(group, "mask", rel));
    const b = fs.statSync(path.join(group, "labels", "mask", "0", rel));
    assert.equal(b.ino, a.ino, rel);
  }
  assert.equal((await s.verify()).ok, true);
});

test("a patient written before labels existed still opens, reads and verifies", async () => {
  const s = await openStore(path.join(dir, "b.zarr"), { create: true, params: PARAMS });
  const lock = await s.lock({ purpose: "test" });
  const shape: [number, number, number] = [5, 6, 7];
  const { hu, mask } = volumes(shape, 3);
  await s.writePatient({ id: "old", hu, mask, source: source(shape), params: PARAMS });
  await lock.release();
  fs.rmSync(path.join(s.root, "patients", "old", "labels"), { recursive: true });
  const again = await openStore(s.root);
  assert.deepEqual(await again.listPatients(), ["old"]);
  assert.deepEqual((await again.readVolume("old", "mask")).data, mask.data);
  assert.equal((await again.verify()).ok, true);
});
