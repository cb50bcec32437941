import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
// An OME-Zarr reader we do not write: fideus-labs' TypeScript port of ngff-zarr, on its own
// zarrita (0.6) with its own codecs.
import { fromNgffZarr } from "@fideus-labs/ngff-zarr";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import { makeViewerStore } from "./fixtures.ts";

const dir = mkdtempSync(path.join(tmpdir(), "viewer-ome-"));
let storePath: string;
let store: PatchStore;
before(async () => {
  storePath = (await makeViewerStore(dir)).store;
  store = await openStore(storePath);
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface ForeignArray {
  shape: number[];
  chunks: number[];
  getChunk(c: number[]): Promise<{ data: ArrayLike<number> }>;
}

/** The whole array through the foreign reader's own chunk decoding (edge chunks cropped). */
async function readAll(a: ForeignArray): Promise<number[]> {
  const [nz, ny, nx] = a.shape;
  const [cz, cy, cx] = a.chunks;
  const out = new Array<number>(nz * ny * nx);
  for (let kz = 0; kz * cz < nz; kz++)
    for (let ky = 0; ky * cy < ny; ky++)
      for (let kx = 0; kx * cx < nx; kx++) {
        const { data } = await a.getChunk([kz, ky, kx]);
        for (let z = 0; z < cz && kz * cz + z < nz; z++)
          for (let y = 0; y < cy && ky * cy + y < ny; y++)
            for (let x = 0; x < cx && kx * cx + x < nx; x++)
              out[((kz * cz + z) * ny + ky * cy + y) * nx + kx * cx + x] =
                data[(z * cy + y) * cx + x];
      }
  return out;
}

for (const [what, sub, array] of [
  ["the HU image", "", "hu"],
  ["the lung-mask label image", "/labels/mask", "mask"],
] as const) {
  test(`ngff-zarr reads ${what}: axes, scale in mm, LPS translation and voxels equal ours`, async () => {
    const a = await store.getPatient("good");
    assert.ok(a);
    const ms = await fromNgffZarr(path.join(storePath, "patients", "good") + sub, {
      validate: true,
    });
    assert.deepEqual(
      ms.metadata.axes.map((x) => [x.name, x.type, x.unit]),
      [
        ["z", "space", "millimeter"],
        ["y", "space", "millimeter"],
        ["x", "space", "millimeter"],
      ],
    );
    assert.equal(ms.images.length, 1);
    const img = ms.images[0];
    assert.deepEqual(img.dims, ["z", "y", "x"]);
    assert.deepEqual(img.scale, { z: a.spacing[0], y: a.spacing[1], x: a.spacing[2] });
    // The translation is the crop's LPS origin, given per axis (z <- Z, y <- Y, x <- X).
    assert.deepEqual(img.translation, { z: a.origin[2], y: a.origin[1], x: a.origin[0] });
    const data = img.data as unknown as ForeignArray;
    assert.deepEqual(data.shape, a.shape);
    const ours = await store.readVolume("good", array);
    assert.deepEqual(await readAll(data), Array.from(ours.data));
  });
}

test("the labels metadata follows OME-NGFF 0.5 (labels list, image-label, source)", () => {
  const read = (p: string) =>
    JSON.parse(readFileSync(path.join(storePath, "patients", "good", p, "zarr.json"), "utf8"));
  const labels = read("labels");
  assert.equal(labels.node_type, "group");
  assert.deepEqual(labels.attributes.ome, { version: "0.5", labels: ["mask"] });
  const label = read("labels/mask").attributes.ome;
  assert.equal(label.version, "0.5");
  assert.deepEqual(label["image-label"].source, { image: "../../" });
  assert.deepEqual(label["image-label"].colors, [{ "label-value": 1, rgba: [255, 80, 80, 255] }]);
  assert.equal(label.multiscales[0].datasets[0].path, "0");
  const arr = read("labels/mask/0");
  assert.equal(arr.data_type, "uint8"); // image-label: integer data
  assert.deepEqual(arr.dimension_names, ["z", "y", "x"]);
});
