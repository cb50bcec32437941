import assert from "node:assert/strict";
import { test } from "node:test";
import { isLungflowError, makeVolume, resample, type Vec3, zoomSize } from "../src/index.ts";
import { randomInt16, rng } from "./rng.ts";

/** Python's round(): half to even. */
function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Slow, obvious reference, written as scipy 1.10's ndimage.zoom computes it: per axis the
 * input coordinate c = i * zoom with zoom = (n_in - 1) / (n_out - 1); weights w0 = 1 - t,
 * w1 = 1 - w0 (t = c - floor(c)); the 8-corner sum in C order, value * wz * wy * wx; or the
 * nearest voxel floor(c + 0.5); integers rounded half away from zero.
 */
function reference(
  data: ArrayLike<number>,
  shape: number[],
  out: number[],
  nearest: boolean,
  kind: "float" | "int" | "uint",
) {
  const res: number[] = [];
  const coord = (i: number, a: number) => i * (out[a] > 1 ? (shape[a] - 1) / (out[a] - 1) : 1);
  const at = (z: number, y: number, x: number) => {
    const c = (v: number, n: number) => Math.min(n - 1, Math.max(0, v));
    return data[(c(z, shape[0]) * shape[1] + c(y, shape[1])) * shape[2] + c(x, shape[2])];
  };
  for (let z = 0; z < out[0]; z++)
    for (let y = 0; y < out[1]; y++)
      for (let x = 0; x < out[2]; x++) {
        const cz = coord(z, 0);
        const cy = coord(y, 1);
        const cx = coord(x, 2);
        let v = 0;
        if (nearest) v = at(Math.floor(cz + 0.5), Math.floor(cy + 0.5), Math.floor(cx + 0.5));
        else {
          const [z0, y0, x0] = [Math.floor(cz), Math.floor(cy), Math.floor(cx)];
          const w = [cz - z0, cy - y0, cx - x0].map((t) => [1 - t, 1 - (1 - t)]);
          for (const dz of [0, 1])
            for (const dy of [0, 1])
              for (const dx of [0, 1])
                v += at(z0 + dz, y0 + dy, x0 + dx) * w[0][dz] * w[1][dy] * w[2][dx];
        }
        if (kind === "int" && !nearest) v = v > 0 ? Math.trunc(v + 0.5) : Math.trunc(v - 0.5);
        if (kind === "uint" && !nearest) v = v > 0 ? Math.trunc(v + 0.5) : 0;
        res.push(v === 0 ? 0 : v); // no -0: typed integer arrays hold none
      }
  return res;
}

function kindOf(a: unknown): "float" | "int" | "uint" {
  return a instanceof Float32Array ? "float" : a instanceof Int16Array ? "int" : "uint";
}

test("zoomSize follows the seed's factor and Python's round", () => {
  // n * f = (n - 1) * s / ns + 1
  assert.equal(zoomSize(300, 1.25, 1).size, 375);
  assert.equal(zoomSize(512, 0.7, 1).size, 359); // 511 * 0.7 + 1 = 358.7
  assert.equal(zoomSize(1, 2.5, 1).size, 1);
  assert.equal(zoomSize(3, 0.75, 1).size, 2); // 2 * 0.75 + 1 = 2.5 -> 2 (half to even)
  assert.equal(zoomSize(2, 1.5, 1).size, 2); // 2 * 1.25 = 2.5 -> 2
  assert.equal(zoomSize(5, 0.875, 1).size, 5); // float64 gives 4.500000000000001, as in Python
  for (let n = 1; n < 50; n++)
    for (const s of [0.5, 0.7, 1.25, 2.5, 3]) {
      const f = (1 - 1 / n) * (s / 1) + 1 / n;
      assert.equal(zoomSize(n, s, 1).size, pyRound(n * f));
    }
});

test("trilinear and nearest equal the slow reference on random volumes of every type", () => {
  const r = rng(11);
  for (let trial = 0; trial < 12; trial++) {
    const shape = [
      1 + Math.floor(r() * 7),
      1 + Math.floor(r() * 9),
      1 + Math.floor(r() * 9),
    ] as Vec3;
    const spacing = [0.4 + r() * 2.6, 0.4 + r() * 1.2, 0.4 + r() * 1.2] as Vec3;
    const newSp = [0.5 + r(), 0.5 + r(), 0.5 + r()] as Vec3;
    const n = shape[0] * shape[1] * shape[2];
    const i16 = randomInt16(n, trial, -3000, 3000);
    const arrays = [
      i16,
      Float32Array.from(i16, (v) => v / 7),
      Uint8Array.from(i16, (v) => v & 1),
      Uint16Array.from(i16, (v) => v + 3000),
    ];
    for (const data of arrays) {
      for (const interpolation of ["linear", "nearest"] as const) {
        const v = makeVolume(data, shape, spacing, [10, -20, 30]);
        const got = resample(v, newSp, { interpolation });
        const outShape = [0, 1, 2].map((a) => zoomSize(shape[a], spacing[a], newSp[a]).size);
        assert.deepEqual(got.shape, outShape);
        assert.equal(got.data.constructor, data.constructor);
        const ref = reference(data, shape, outShape, interpolation === "nearest", kindOf(data));
        const msg = `trial ${trial} ${data.constructor.name} ${interpolation}`;
        if (data instanceof Float32Array) {
          // float outputs: the separable sum differs from the 8-corner sum by float64 rounding only
          for (const [i, v] of ref.entries()) {
            assert.ok(Math.abs(got.data[i] - v) <= 1e-6 * Math.max(1, Math.abs(v)), msg);
          }
        } else assert.deepEqual(Array.from(got.data), ref, msg);
        assert.deepEqual(got.origin, [10, -20, 30]);
        for (let a = 0; a < 3; a++) {
          const expSp =
            outShape[a] > 1 ? ((shape[a] - 1) * spacing[a]) / (outShape[a] - 1) : newSp[a];
          assert.ok(Math.abs(got.spacing[a] - expSp) < 1e-12);
        }
      }
    }
  }
});

test("masks (Uint8Array) resample nearest by default; HU trilinear", () => {
  const mask = makeVolume(Uint8Array.from([0, 1, 1, 0, 1, 0, 0, 1]), [2, 2, 2], [3, 3, 3]);
  const r = resample(mask);
  assert.ok(r.data.every((v) => v === 0 || v === 1));
  assert.deepEqual(r.data, resample(mask, [1, 1, 1], { interpolation: "nearest" }).data);
  const hu = makeVolume(Int16Array.from([0, 10]), [1, 1, 2], [1, 1, 2]);
  assert.deepEqual(Array.from(resample(hu).data), [0, 5, 10]);
  const neg = makeVolume(Int16Array.from([-1, -2]), [1, 1, 2], [1, 1, 2]);
  assert.deepEqual(Array.from(resample(neg).data), [-1, -2, -2]); // -1.5 rounds away from zero
});

test("rejects bad spacing and shape with a VolumeError", () => {
  const v = makeVolume(new Int16Array(8), [2, 2, 2]);
  assert.throws(
    () => resample(v, [0, 1, 1]),
    (e) => isLungflowError(e, "VolumeError") && e.code === "BAD_SPACING",
  );
  assert.throws(
    () => resample({ ...v, shape: [2, 2, 3] }),
    (e) => isLungflowError(e, "VolumeError") && e.code === "BAD_SHAPE",
  );
});
