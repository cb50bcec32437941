import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type BBox,
  bboxOfMask,
  crop,
  isLungflowError,
  makeVolume,
  type Vec3,
} from "../src/index.ts";
import { randomInt16, rng } from "./rng.ts";

test("crop equals a per-voxel copy and moves the origin along the direction vectors", () => {
  const shape: Vec3 = [5, 6, 7];
  const data = randomInt16(210, 4);
  // an oblique-ish direction to check the origin arithmetic (unit vectors, not axial)
  const dir: [Vec3, Vec3, Vec3] = [
    [0, 0, 1],
    [0, 0.6, 0.8],
    [1, 0, 0],
  ];
  const v = makeVolume(data, shape, [2.5, 0.7, 0.8], [-100, 50, 20], dir);
  const box: BBox = [
    [1, 4],
    [2, 6],
    [0, 5],
  ];
  const c = crop(v, box);
  assert.deepEqual(c.shape, [3, 4, 5]);
  let k = 0;
  for (let z = 1; z < 4; z++)
    for (let y = 2; y < 6; y++)
      for (let x = 0; x < 5; x++) assert.equal(c.data[k++], data[(z * 6 + y) * 7 + x]);
  // voxel (1, 2, 0) at origin + 1 * 2.5 * zAxis + 2 * 0.7 * yAxis
  const exp = [-100, 50 + 1.4 * 0.6, 20 + 2.5 + 1.4 * 0.8];
  for (let i = 0; i < 3; i++) assert.ok(Math.abs(c.origin[i] - exp[i]) < 1e-12);
  assert.ok(c.data instanceof Int16Array);
  assert.deepEqual(
    crop(v, [
      [0, 5],
      [0, 6],
      [0, 7],
    ]).data,
    data,
  );
  for (const bad of [
    [
      [0, 6],
      [0, 6],
      [0, 7],
    ],
    [
      [2, 2],
      [0, 6],
      [0, 7],
    ],
    [
      [-1, 3],
      [0, 6],
      [0, 7],
    ],
    [
      [0, 1.5],
      [0, 6],
      [0, 7],
    ],
  ] as BBox[]) {
    assert.throws(
      () => crop(v, bad),
      (e) => isLungflowError(e, "VolumeError") && e.code === "BAD_BBOX",
    );
  }
});

test("bboxOfMask equals the brute-force box on random sparse masks; undefined when empty", () => {
  const r = rng(5);
  for (let t = 0; t < 40; t++) {
    const shape: Vec3 = [1 + Math.floor(r() * 8), 1 + Math.floor(r() * 8), 1 + Math.floor(r() * 8)];
    const n = shape[0] * shape[1] * shape[2];
    const p = t % 4 === 0 ? 0 : r() * 0.1;
    const mask = Uint8Array.from({ length: n }, () => (r() < p ? 1 + Math.floor(r() * 3) : 0));
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-1, -1, -1];
    for (let z = 0; z < shape[0]; z++)
      for (let y = 0; y < shape[1]; y++)
        for (let x = 0; x < shape[2]; x++)
          if (mask[(z * shape[1] + y) * shape[2] + x]) {
            [z, y, x].forEach((c, a) => {
              lo[a] = Math.min(lo[a], c);
              hi[a] = Math.max(hi[a], c + 1);
            });
          }
    const exp = hi[0] < 0 ? undefined : [0, 1, 2].map((a) => [lo[a], hi[a]]);
    assert.deepEqual(bboxOfMask({ data: mask, shape }), exp);
    assert.deepEqual(bboxOfMask(makeVolume(mask, shape)), exp);
  }
  assert.throws(() => bboxOfMask({ data: new Uint8Array(3), shape: [1, 1, 2] }), /does not match/);
});
