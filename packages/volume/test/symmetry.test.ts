import assert from "node:assert/strict";
import { test } from "node:test";
import {
  applySymmetry,
  composeSymmetry,
  inverseSymmetry,
  isLungflowError,
  SYMMETRIES,
  SYMMETRY_COUNT,
  symmetryShape,
} from "../src/index.ts";
import { randomInt16, rng } from "./rng.ts";

/** Slow, obvious reference: nested arrays, a general transpose, then flips, axis by axis. */
function reference(
  data: ArrayLike<number>,
  shape: number[],
  perm: readonly number[],
  flips: readonly boolean[],
) {
  const get = (i: number[]) => data[(i[0] * shape[1] + i[1]) * shape[2] + i[2]];
  const os = perm.map((p) => shape[p]);
  // transpose: t[o] = x[i] with i[perm[a]] = o[a]
  const t: number[][][] = [];
  for (let a = 0; a < os[0]; a++) {
    t.push([]);
    for (let b = 0; b < os[1]; b++) {
      t[a].push([]);
      for (let c = 0; c < os[2]; c++) {
        const o = [a, b, c];
        const i = [0, 0, 0];
        for (let k = 0; k < 3; k++) i[perm[k]] = o[k];
        t[a][b].push(get(i));
      }
    }
  }
  // flips, one axis at a time
  let f = t;
  if (flips[0]) f = [...f].reverse();
  if (flips[1]) f = f.map((p) => [...p].reverse());
  if (flips[2]) f = f.map((p) => p.map((r) => [...r].reverse()));
  return { data: f.flat(2), shape: os };
}

test("each of the 48 symmetries equals the slow reference on a random 3x4x5 box, any element type", () => {
  const shape = [3, 4, 5];
  const i16 = randomInt16(60, 1);
  for (const s of SYMMETRIES) {
    const ref = reference(i16, shape, s.perm, s.flips);
    for (const arr of [i16, Float32Array.from(i16), Uint8Array.from(i16, (v) => v & 255)]) {
      const got = applySymmetry(arr, shape, s.index);
      assert.deepEqual(got.shape, ref.shape, `shape of ${s.index}`);
      assert.deepEqual(
        Array.from(got.data),
        Array.from(ref.data, (v) => (arr instanceof Uint8Array ? v & 255 : v)),
        `data of ${s.index}`,
      );
      assert.equal(got.data.constructor, arr.constructor);
      assert.deepEqual(symmetryShape(shape, s.index), ref.shape);
    }
  }
});

test("exactly 48 distinct orientations of a random cube; 24 rotations with determinant +1", () => {
  const r = rng(7);
  const cube = Float32Array.from({ length: 125 }, () => r());
  const seen = new Set<string>();
  for (let i = 0; i < SYMMETRY_COUNT; i++)
    seen.add(Array.from(applySymmetry(cube, [5, 5, 5], i).data).join(","));
  assert.equal(seen.size, 48);
  // the signed permutation matrix of each symmetry: determinant from the matrix itself
  let rotations = 0;
  for (const s of SYMMETRIES) {
    const m = [0, 1, 2].map((a) =>
      [0, 1, 2].map((b) => (s.perm[a] === b ? (s.flips[a] ? -1 : 1) : 0)),
    );
    const det =
      m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
      m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
      m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    assert.equal(det === 1, s.rotation, `rotation flag of ${s.index}`);
    if (s.rotation) rotations++;
  }
  assert.equal(rotations, 24);
  assert.equal(SYMMETRIES[0].perm.join(), "0,1,2");
  assert.deepEqual(applySymmetry(cube, [5, 5, 5], 0).data, cube);
});

test("inverses undo, composition equals sequential application, the group closes", () => {
  const shape = [2, 3, 4];
  const x = randomInt16(24, 3);
  for (let a = 0; a < SYMMETRY_COUNT; a++) {
    const ya = applySymmetry(x, shape, a);
    const back = applySymmetry(ya.data, ya.shape, inverseSymmetry(a));
    assert.deepEqual(back.shape, shape);
    assert.deepEqual(back.data, x, `inverse of ${a}`);
    assert.equal(composeSymmetry(a, inverseSymmetry(a)), 0);
    assert.equal(composeSymmetry(inverseSymmetry(a), a), 0);
    const products = new Set<number>();
    for (let b = 0; b < SYMMETRY_COUNT; b++) {
      const yab = applySymmetry(ya.data, ya.shape, b);
      const c = applySymmetry(x, shape, composeSymmetry(a, b));
      assert.deepEqual(c.shape, yab.shape);
      assert.deepEqual(c.data, yab.data, `compose(${a}, ${b})`);
      products.add(composeSymmetry(a, b));
    }
    assert.equal(products.size, 48, "left multiplication is a bijection");
  }
});

test("writes into out; rejects bad index, bad shape, overlapping out", () => {
  const x = randomInt16(27, 5);
  const out = new Int16Array(27);
  const r = applySymmetry(x, [3, 3, 3], 13, out);
  assert.equal(r.data, out);
  assert.deepEqual(out, applySymmetry(x, [3, 3, 3], 13).data);
  for (const bad of [-1, 48, 1.5, Number.NaN]) {
    assert.throws(
      () => applySymmetry(x, [3, 3, 3], bad),
      (e) => isLungflowError(e, "VolumeError") && e.code === "BAD_SYMMETRY",
    );
  }
  assert.throws(
    () => applySymmetry(x, [3, 3, 2], 1),
    (e) => isLungflowError(e) && e.code === "BAD_SHAPE",
  );
  assert.throws(
    () => applySymmetry(x, [3, 3, 3], 1, x),
    (e) => isLungflowError(e) && e.code === "BAD_ARGUMENT",
  );
  assert.throws(() => inverseSymmetry(48), /0\.\.47/);
});

test("a 32^3 patch takes microseconds (float32 and int16)", () => {
  const f = Float32Array.from(randomInt16(32768, 9));
  const i = randomInt16(32768, 9);
  const of = new Float32Array(32768);
  const oi = new Int16Array(32768);
  for (let k = 0; k < 200; k++) {
    applySymmetry(f, [32, 32, 32], k % 48, of);
    applySymmetry(i, [32, 32, 32], k % 48, oi);
  }
  // CPU time, not wall time: other processes share the cores (CI runs two tasks at once).
  const reps = 480;
  const cpuUs = (c: NodeJS.CpuUsage) => c.user + c.system;
  let c0 = process.cpuUsage();
  for (let k = 0; k < reps; k++) applySymmetry(f, [32, 32, 32], k % 48, of);
  const usF = cpuUs(process.cpuUsage(c0)) / reps;
  c0 = process.cpuUsage();
  for (let k = 0; k < reps; k++) applySymmetry(i, [32, 32, 32], k % 48, oi);
  const usI = cpuUs(process.cpuUsage(c0)) / reps;
  console.log(
    `applySymmetry 32^3: float32 ${usF.toFixed(1)} us, int16 ${usI.toFixed(1)} us CPU per patch`,
  );
  // Only catches pathologies (per-voxel allocation, a megamorphic loop): the machine is
  // shared and busy; real numbers come from tools/bench/volume.ts (see README).
  assert.ok(usF < 2000 && usI < 2000, `too slow: ${usF} / ${usI} us`);
});
