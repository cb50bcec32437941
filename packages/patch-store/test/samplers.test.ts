import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createRng, isLungflowError, type Vec3 } from "@lungflow/volume";
import {
  balancedSampler,
  gridSampler,
  lungSampler,
  makeSampler,
  nthVoxel,
  type SamplerPatient,
  type SamplerSpec,
  uniformSampler,
  voxelIndex,
} from "../src/samplers/index.ts";

/** Two ellipsoid "lungs" with bright blobs (vessels/nodules) inside, in air. */
function chest(shape: Vec3, seed = 1): SamplerPatient {
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const mask = new Uint8Array(n);
  const hu = new Int16Array(n).fill(-1000);
  const rng = createRng(seed);
  const blobs = Array.from({ length: 12 }, () => [rng.int(nz), rng.int(ny), rng.int(nx)]);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const i = (z * ny + y) * nx + x;
        const dz = (z - nz / 2) / (nz * 0.45);
        const dy = (y - ny / 2) / (ny * 0.4);
        for (const cx of [0.3, 0.7]) {
          const dx = (x - nx * cx) / (nx * 0.18);
          if (dz * dz + dy * dy + dx * dx < 1) {
            mask[i] = 1;
            hu[i] = -850;
          }
        }
        for (const [bz, by, bx] of blobs) {
          if ((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2 < 4 && mask[i]) hu[i] = 40;
        }
      }
  return { id: "p1", shape, mask, hu };
}

describe("grid sampler", () => {
  test("pad: non-overlapping tiles cover every voxel exactly once", () => {
    const shape: Vec3 = [20, 17, 9];
    const tiles = [...gridSampler({ size: 8 }).sample({ id: "a", shape })];
    assert.equal(tiles.length, 3 * 3 * 2);
    const hits = new Uint8Array(20 * 17 * 9);
    for (const t of tiles) {
      assert.deepEqual(t.size, [8, 8, 8]);
      for (let z = t.origin[0]; z < t.origin[0] + 8; z++)
        for (let y = t.origin[1]; y < t.origin[1] + 8; y++)
          for (let x = t.origin[2]; x < t.origin[2] + 8; x++)
            if (z < 20 && y < 17 && x < 9) hits[(z * 17 + y) * 9 + x]++;
    }
    assert.ok(hits.every((h) => h === 1));
  });
  test("drop keeps whole tiles; shift moves the last tile inside", () => {
    const shape: Vec3 = [20, 17, 9];
    const drop = [...gridSampler({ size: 8, remainder: "drop" }).sample({ id: "a", shape })];
    assert.equal(drop.length, 2 * 2 * 1);
    const shift = [...gridSampler({ size: 8, remainder: "shift" }).sample({ id: "a", shape })];
    assert.equal(shift.length, 3 * 3 * 2);
    for (const t of shift)
      for (let a = 0; a < 3; a++) assert.ok(t.origin[a] >= 0 && t.origin[a] + 8 <= shape[a]);
    assert.deepEqual(shift.at(-1)!.origin, [12, 9, 1]);
  });
  test("stride gives overlapping tiles", () => {
    const t = [
      ...gridSampler({ size: [4, 4, 4], stride: 2, remainder: "drop" }).sample({
        id: "a",
        shape: [8, 8, 8],
      }),
    ];
    assert.equal(t.length, 27);
  });
});

describe("uniform sampler", () => {
  test("inside the volume, seeded, every origin reachable", () => {
    const s = uniformSampler({ size: 4 });
    const shape: Vec3 = [7, 9, 6];
    const a = [...s.sample({ id: "a", shape }, { seed: 5, count: 2000 })];
    const b = [...s.sample({ id: "a", shape }, { seed: 5, count: 2000 })];
    assert.deepEqual(a, b);
    const c = [...s.sample({ id: "a", shape }, { seed: 6, count: 2000 })];
    assert.notDeepEqual(a, c);
    const seen = new Set<string>();
    for (const l of a) {
      for (let k = 0; k < 3; k++) assert.ok(l.origin[k] >= 0 && l.origin[k] + 4 <= shape[k]);
      seen.add(l.origin.join());
    }
    assert.equal(seen.size, 4 * 6 * 3);
  });
  test("an axis shorter than the patch is centred", () => {
    const [l] = [
      ...uniformSampler({ size: 8 }).sample({ id: "a", shape: [4, 20, 20] }, { count: 1 }),
    ];
    assert.equal(l.origin[0], -2);
  });
});

describe("lung sampler", () => {
  const p = chest([24, 30, 40]);
  test("nthVoxel enumerates the mask voxels in C order (brute force)", () => {
    const idx = voxelIndex(p.shape, p.mask!);
    const brute: number[] = [];
    p.mask!.forEach((m, i) => {
      if (m) brute.push(i);
    });
    assert.equal(idx.total, brute.length);
    for (let k = 0; k < brute.length; k += 7) {
      const [z, y, x] = nthVoxel(idx, k, p.mask!);
      assert.equal((z * 30 + y) * 40 + x, brute[k]);
    }
    const bright = voxelIndex(p.shape, p.mask!, p.hu!, -400);
    const bb: number[] = [];
    p.mask!.forEach((m, i) => {
      if (m && p.hu![i] > -400) bb.push(i);
    });
    assert.equal(bright.total, bb.length);
    assert.ok(bb.length > 0);
    for (let k = 0; k < bb.length; k++) {
      const [z, y, x] = nthVoxel(bright, k, p.mask!, p.hu!);
      assert.equal((z * 30 + y) * 40 + x, bb[k]);
    }
  });
  test("centres lie in the mask; seeded; needs the mask", () => {
    const s = lungSampler({ size: [8, 8, 8] });
    const locs = [...s.sample(p, { seed: 9, count: 500 })];
    for (const l of locs) {
      const [z, y, x] = l.origin.map((o) => o + 4);
      assert.equal(p.mask![(z * 30 + y) * 40 + x], 1);
    }
    assert.deepEqual(locs, [...s.sample(p, { seed: 9, count: 500 })]);
    assert.throws(
      () => [...s.sample({ id: "q", shape: [4, 4, 4] }, { count: 1 })],
      (e) =>
        isLungflowError(e, "SamplerError") &&
        e.code === "MISSING_ARRAY" &&
        e.context.patientId === "q",
    );
  });
  test("empty mask falls back to uniform", () => {
    const s = lungSampler({ size: 4 });
    const l = [...s.sample({ id: "e", shape: [8, 8, 8], mask: new Uint8Array(512) }, { count: 3 })];
    assert.equal(l.length, 3);
  });
});

describe("balanced sampler", () => {
  test("the bright fraction is what was asked (binomial bound)", () => {
    const p = chest([24, 30, 40], 2);
    const N = 2000;
    for (const f of [0.25, 0.5]) {
      const s = balancedSampler({ size: 8, brightFraction: f, threshold: -400 });
      let bright = 0;
      for (const l of s.sample(p, { seed: 1, count: N })) {
        const [z, y, x] = l.origin.map((o) => o + 4);
        const i = (z * 30 + y) * 40 + x;
        assert.equal(p.mask![i], 1);
        if (p.hu![i] > -400) bright++;
      }
      // Plain lung draws can hit bright voxels too: expected f + (1-f) * share.
      const share =
        voxelIndex(p.shape, p.mask!, p.hu!, -400).total / voxelIndex(p.shape, p.mask!).total;
      const expect = f + (1 - f) * share;
      const sd = Math.sqrt(N * expect * (1 - expect));
      assert.ok(Math.abs(bright - N * expect) < 4 * sd, `bright ${bright} vs ${N * expect}`);
    }
  });
  test("bad options are typed errors", () => {
    assert.throws(
      () => balancedSampler({ size: 8, brightFraction: 2 }),
      (e) => isLungflowError(e, "SamplerError"),
    );
    assert.throws(
      () => uniformSampler({ size: 0 }),
      (e) => isLungflowError(e, "SamplerError") && e.code === "BAD_OPTION",
    );
    assert.throws(
      () => makeSampler({ name: "nope" } as unknown as SamplerSpec),
      (e) => isLungflowError(e, "SamplerError"),
    );
  });
});

test("makeSampler(spec) rebuilds the same sampler", () => {
  const p = chest([16, 20, 24], 3);
  for (const s of [
    gridSampler({ size: 8 }),
    uniformSampler({ size: 8 }),
    lungSampler({ size: 8 }),
    balancedSampler({ size: 8 }),
  ]) {
    const t = makeSampler(structuredClone(s.spec));
    assert.deepEqual(
      [...t.sample(p, { seed: 4, count: 50 })],
      [...s.sample(p, { seed: 4, count: 50 })],
    );
    assert.deepEqual(t.needs, s.needs);
  }
});
