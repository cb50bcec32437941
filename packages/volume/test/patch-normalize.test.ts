import assert from "node:assert/strict";
import { test } from "node:test";
import { extractPatch, isLungflowError, normalizeHu } from "../src/index.ts";
import { randomInt16, rng } from "./rng.ts";

test("extractPatch equals a per-voxel reference, in and out of bounds", () => {
  const shape = [6, 7, 8];
  const data = randomInt16(336, 6);
  const r = rng(6);
  for (let t = 0; t < 60; t++) {
    const size = [1 + Math.floor(r() * 5), 1 + Math.floor(r() * 5), 1 + Math.floor(r() * 5)];
    const start = [Math.floor(r() * 14) - 5, Math.floor(r() * 14) - 5, Math.floor(r() * 16) - 6];
    const exp: number[] = [];
    for (let z = 0; z < size[0]; z++)
      for (let y = 0; y < size[1]; y++)
        for (let x = 0; x < size[2]; x++) {
          const [a, b, c] = [z + start[0], y + start[1], x + start[2]];
          const inside = a >= 0 && a < 6 && b >= 0 && b < 7 && c >= 0 && c < 8;
          exp.push(inside ? data[(a * 7 + b) * 8 + c] : -1000);
        }
    const got = extractPatch({ data, shape }, start, size, -1000);
    assert.deepEqual(Array.from(got), exp, `start ${start} size ${size}`);
    // reusing a dirty buffer gives the same answer
    const out = new Int16Array(got.length).fill(7);
    assert.deepEqual(extractPatch({ data, shape }, start, size, -1000, out), got);
  }
  assert.throws(
    () => extractPatch({ data, shape }, [0, 0, 0], [0, 1, 1]),
    (e) => isLungflowError(e) && e.code === "BAD_ARGUMENT",
  );
});

test("normalizeHu maps -1000 -> -1 and 400 -> 1, clips by default", () => {
  const hu = Int16Array.from([-2000, -1000, -300, 400, 1000]);
  const n = normalizeHu(hu);
  assert.deepEqual([n[0], n[1], n[3], n[4]], [-1, -1, 1, 1]);
  assert.ok(Math.abs(n[2]) < 1e-6, "midpoint -300 -> 0");
  for (let v = -1100; v <= 500; v++) {
    const x = normalizeHu(Int16Array.of(v))[0];
    assert.ok(Math.abs(x - Math.max(-1, Math.min(1, (v + 1000) / 700 - 1))) < 1e-6, `HU ${v}`);
  }
  const raw = normalizeHu(hu, { clip: false });
  for (const [i, v] of [-2000, -1000, -300, 400, 1000].entries()) {
    assert.ok(Math.abs(raw[i] - ((v + 1000) / 700 - 1)) < 1e-6);
  }
  const w = normalizeHu(hu, { min: -1000, max: 1000 });
  assert.ok(Math.abs(w[2] + 0.3) < 1e-6);
  assert.throws(
    () => normalizeHu(hu, { min: 5, max: 5 }),
    (e) => isLungflowError(e, "VolumeError"),
  );
});
