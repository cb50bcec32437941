import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { makeVolume, resample, type Vec3, type VoxelArray } from "../src/index.ts";
import { randomInt16, rng } from "./rng.ts";

const PY = "/usr/bin/python3";
// kdsb17's call: zoom factor from the seed's formula, scipy.ndimage.zoom(arr, f, order=1),
// output dtype = input dtype. order=0 stands for masks.
const SCRIPT = `
import json, sys
import numpy as np
from scipy import ndimage
spec = json.load(open(sys.argv[1]))
for c in spec:
    a = np.fromfile(c["in"], dtype=c["dtype"]).reshape(c["shape"])
    n = np.array(a.shape)
    f = (1 - 1 / n) * (np.array(c["spacing"]) / np.array(c["newSpacing"])) + 1 / n
    out = ndimage.zoom(a, f, order=c["order"])
    out.tofile(c["out"])
    c["outShape"] = list(out.shape)
json.dump(spec, open(sys.argv[2], "w"))
`;

function scipyMissing(): string | false {
  if (!fs.existsSync(PY)) return `${PY} not found (apt-get install python3-scipy)`;
  const r = spawnSync(PY, ["-c", "import scipy.ndimage, numpy"], { encoding: "utf8" });
  return r.status === 0 ? false : `Debian scipy missing: ${r.stderr.trim()}`;
}

const skip = scipyMissing();

test("resample equals Debian scipy.ndimage.zoom voxel for voxel", { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lungflow-zoom-"));
  try {
    const r = rng(2024);
    const cases: {
      data: VoxelArray;
      dtype: string;
      shape: Vec3;
      spacing: Vec3;
      newSpacing: Vec3;
      order: number;
    }[] = [];
    const add = (
      data: VoxelArray,
      dtype: string,
      shape: Vec3,
      spacing: Vec3,
      newSpacing: Vec3,
      order: number,
    ) => cases.push({ data, dtype, shape, spacing, newSpacing, order });
    // CT-like: 0.7 mm in-plane, 1.25 / 2.5 mm slices -> 1 mm
    add(randomInt16(12 * 30 * 30, 1), "<i2", [12, 30, 30], [1.25, 0.7, 0.7], [1, 1, 1], 1);
    add(randomInt16(7 * 20 * 24, 2), "<i2", [7, 20, 24], [2.5, 0.625, 0.742], [1, 1, 1], 1);
    for (let k = 0; k < 14; k++) {
      const shape = [
        1 + Math.floor(r() * 10),
        1 + Math.floor(r() * 12),
        1 + Math.floor(r() * 12),
      ] as Vec3;
      const spacing = [0.3 + r() * 3, 0.3 + r() * 1.5, 0.3 + r() * 1.5] as Vec3;
      const newSpacing = [0.5 + r(), 0.5 + r(), 0.5 + r()] as Vec3;
      const n = shape[0] * shape[1] * shape[2];
      const i16 = randomInt16(n, 100 + k, -3024, 3071);
      if (k % 3 === 0)
        add(
          Uint8Array.from(i16, (v) => (v > 0 ? 1 : 0)),
          "u1",
          shape,
          spacing,
          newSpacing,
          0,
        );
      else if (k % 3 === 1)
        add(
          Float32Array.from(i16, (v) => v / 3),
          "<f4",
          shape,
          spacing,
          newSpacing,
          1,
        );
      else add(i16, "<i2", shape, spacing, newSpacing, 1);
    }
    // ties: spacings with short decimals make exact .5 values common
    add(randomInt16(9 * 11 * 13, 7), "<i2", [9, 11, 13], [1.5, 0.7, 0.5], [1, 1, 1], 1);
    add(randomInt16(9 * 11 * 13, 8), "<i2", [9, 11, 13], [0.9, 1.1, 0.6], [1, 1, 1], 1);
    const spec = cases.map((c, i) => {
      const inPath = path.join(dir, `in${i}.raw`);
      fs.writeFileSync(inPath, new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength));
      return { ...c, data: undefined, in: inPath, out: path.join(dir, `out${i}.raw`) };
    });
    fs.writeFileSync(path.join(dir, "spec.json"), JSON.stringify(spec));
    fs.writeFileSync(path.join(dir, "zoom.py"), SCRIPT);
    const p = spawnSync(
      PY,
      [path.join(dir, "zoom.py"), path.join(dir, "spec.json"), path.join(dir, "done.json")],
      {
        encoding: "utf8",
      },
    );
    assert.equal(p.status, 0, p.stderr);
    const done = JSON.parse(fs.readFileSync(path.join(dir, "done.json"), "utf8")) as {
      outShape: number[];
      out: string;
    }[];
    cases.forEach((c, i) => {
      const v = makeVolume(c.data, c.shape, c.spacing);
      const got = resample(v, c.newSpacing, {
        interpolation: c.order === 0 ? "nearest" : "linear",
      });
      assert.deepEqual(got.shape, done[i].outShape, `case ${i} shape`);
      const buf = fs.readFileSync(done[i].out);
      const Ctor = c.data.constructor as new (b: ArrayBuffer, o: number, n: number) => VoxelArray;
      const exp = new Ctor(buf.buffer, buf.byteOffset, buf.byteLength / c.data.BYTES_PER_ELEMENT);
      if (c.data instanceof Float32Array) {
        for (let k = 0; k < exp.length; k++) {
          assert.ok(
            Math.abs(got.data[k] - exp[k]) <= 1e-6 * Math.max(1, Math.abs(exp[k])),
            `case ${i} voxel ${k}`,
          );
        }
      } else {
        assert.deepEqual(got.data, exp, `case ${i} (${c.dtype}, ${c.shape} @ ${c.spacing})`);
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
