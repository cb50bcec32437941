// Every native kernel against tfjs's reference cpu kernels, on a grid of shapes, strides
// and paddings, for every instruction set this CPU can run (plus "generic16": portable code
// with the AVX-512 tile shapes, so that tiling is tested even without AVX-512 hardware).
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { registerNativeConv3d, unregisterNativeConv3d } from "../src/index.ts";
import { loadAddon } from "../src/load-addon.ts";
import { type Case, cpuBackend, type Results, relErr, runOps, tf } from "./helpers.ts";

const TOL = 1e-4;

// Odd sizes, batch 1-3, channels 1..32, kernels 1..3 per axis, per-axis strides 1/2 (one 3),
// same/valid/explicit padding. Small enough for tfjs's JS reference (~1 s in all).
const CASES: Case[] = [
  { x: [1, 5, 6, 7, 1], k: [3, 3, 3, 1, 8], s: [1, 1, 1], pad: "same" },
  { x: [2, 7, 5, 6, 8], k: [3, 3, 3, 8, 8], s: [1, 1, 1], pad: "same" },
  { x: [2, 7, 5, 6, 8], k: [3, 3, 3, 8, 16], s: [2, 2, 2], pad: "same" },
  { x: [1, 8, 8, 8, 16], k: [3, 3, 3, 16, 32], s: [2, 2, 2], pad: "same" },
  { x: [1, 8, 8, 8, 16], k: [3, 3, 3, 16, 32], s: [2, 1, 2], pad: "valid" },
  { x: [3, 5, 5, 5, 5], k: [2, 3, 1, 5, 7], s: [1, 2, 1], pad: "same" },
  { x: [1, 9, 7, 5, 32], k: [3, 3, 3, 32, 24], s: [1, 1, 1], pad: "same" },
  { x: [1, 5, 7, 9, 17], k: [3, 3, 3, 17, 9], s: [1, 2, 2], pad: "valid" },
  { x: [2, 6, 6, 6, 3], k: [3, 3, 3, 3, 1], s: [2, 2, 2], pad: "same" },
  { x: [1, 7, 7, 7, 12], k: [1, 1, 1, 12, 20], s: [1, 1, 1], pad: "valid" },
  { x: [1, 7, 6, 5, 4], k: [3, 2, 3, 4, 33], s: [2, 1, 1], pad: "same" },
  { x: [2, 4, 9, 4, 2], k: [3, 3, 3, 2, 6], s: [1, 3, 1], pad: "same" },
  { x: [1, 6, 6, 6, 32], k: [3, 3, 3, 32, 1], s: [1, 1, 1], pad: "valid" },
  { x: [1, 9, 9, 9, 1], k: [3, 3, 3, 1, 4], s: [2, 2, 2], pad: "valid" },
  { x: [3, 3, 3, 3, 8], k: [3, 3, 3, 8, 16], s: [1, 1, 1], pad: 1 },
  { x: [1, 5, 5, 5, 6], k: [3, 3, 3, 6, 10], s: [2, 2, 2], pad: 1 },
  { x: [2, 5, 6, 21, 1], k: [3, 3, 3, 1, 3], s: [2, 1, 1], pad: "same" },
];

const loaded = loadAddon();
const isas = "addon" in loaded ? loaded.addon.info().supported : [];
const refs: Results[] = [];

before(async () => {
  await cpuBackend();
  unregisterNativeConv3d(tf);
  for (const [i, c] of CASES.entries()) refs.push(runOps(c, 100 + i));
});

test("the addon is built and loads", () => {
  assert.ok("addon" in loaded, "error" in loaded ? loaded.error : "");
  assert.ok(isas.includes("generic") && isas.includes("generic16"));
});

for (const isa of isas) {
  describe(`native kernels (${isa}) equal tfjs's cpu kernels`, () => {
    for (const [i, c] of CASES.entries()) {
      const name = `x ${c.x.join("x")}, k ${c.k.join("x")}, strides ${c.s.join(",")}, pad ${c.pad}`;
      test(name, () => {
        const s = registerNativeConv3d(tf, { isa, threads: 2 });
        assert.ok(s.ok, s.reason);
        assert.equal(s.isa, isa);
        try {
          const got = runOps(c, 100 + i);
          assert.ok(
            relErr(got.y, refs[i].y) <= TOL,
            `Conv3D rel. error ${relErr(got.y, refs[i].y)}`,
          );
          assert.ok(
            relErr(got.dx, refs[i].dx) <= TOL,
            `Conv3DBackpropInputV2 rel. error ${relErr(got.dx, refs[i].dx)}`,
          );
          assert.ok(
            relErr(got.dw, refs[i].dw) <= TOL,
            `Conv3DBackpropFilterV2 rel. error ${relErr(got.dw, refs[i].dw)}`,
          );
        } finally {
          unregisterNativeConv3d(tf);
        }
      });
    }
  });
}

// Backprop-filter splits the output voxels into parts by geometry (>= 2048 voxels a part):
// one part (dw written directly), 2 parts, and 8 parts with padded channel columns (CO 5).
const REPRO: Case[] = [
  { x: [2, 9, 8, 7, 8], k: [3, 3, 3, 8, 16], s: [1, 1, 1], pad: "same" },
  { x: [1, 16, 16, 16, 4], k: [3, 3, 3, 4, 8], s: [1, 1, 1], pad: "same" },
  { x: [2, 24, 20, 18, 3], k: [3, 3, 3, 3, 5], s: [1, 1, 1], pad: "same" },
  // 1-channel input, <= 4 output channels: positions along W as vector lanes, 8 parts.
  { x: [2, 24, 20, 37, 1], k: [3, 3, 3, 1, 4], s: [1, 1, 1], pad: "same" },
];

test("results are bitwise identical with 1, 2, 3 and 8 threads (reproducible training)", () => {
  for (const [i, c] of REPRO.entries()) {
    assert.ok(registerNativeConv3d(tf, { threads: 1 }).ok);
    const one = runOps(c, 7 + i);
    for (const threads of [2, 3, 8]) {
      assert.equal(registerNativeConv3d(tf, { threads }).threads, threads);
      const other = runOps(c, 7 + i);
      for (const k of ["y", "dx", "dw"] as const)
        assert.deepEqual(
          other[k],
          one[k],
          `case ${i}: ${k} differs between 1 and ${threads} threads`,
        );
    }
    const again = runOps(c, 7 + i);
    for (const k of ["y", "dx", "dw"] as const)
      assert.deepEqual(again[k], one[k], `case ${i}: ${k} differs between two runs`);
  }
  unregisterNativeConv3d(tf);
});

test("multi-part backprop-filter (4096, 17280 and 35520 output voxels) matches tfjs", () => {
  for (const [i, c] of REPRO.slice(1).entries()) {
    const ref = runOps(c, 20 + i);
    assert.ok(registerNativeConv3d(tf, { threads: 2 }).ok);
    const got = runOps(c, 20 + i);
    unregisterNativeConv3d(tf);
    for (const k of ["y", "dx", "dw"] as const)
      assert.ok(relErr(got[k], ref[k]) <= TOL, `case ${i + 1} ${k}: ${relErr(got[k], ref[k])}`);
  }
});

test("a larger GMCAE-like layer (32^3 x 8 -> 16, stride 2) matches tfjs", () => {
  const c: Case = { x: [1, 16, 16, 16, 8], k: [3, 3, 3, 8, 16], s: [2, 2, 2], pad: "same" };
  const ref = runOps(c, 5);
  assert.ok(registerNativeConv3d(tf, { threads: 2 }).ok);
  const got = runOps(c, 5);
  unregisterNativeConv3d(tf);
  for (const k of ["y", "dx", "dw"] as const)
    assert.ok(relErr(got[k], ref[k]) <= TOL, `${k}: ${relErr(got[k], ref[k])}`);
});
