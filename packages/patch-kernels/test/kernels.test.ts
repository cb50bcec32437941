import assert from "node:assert/strict";
import { test } from "node:test";
import { createRng, SYMMETRY_COUNT, type Vec3 } from "@lungflow/volume";
import {
  augmentInto,
  augmentIntoWasm,
  augmentManyNative,
  kernelNorm,
  nativeKernel,
  type PatchJob,
  useNativeStreamCopy,
  wasmVolume,
} from "../src/index.ts";
import { chest, maxDiff, reference } from "./helpers.ts";

test("JS kernel = slow reference extraction + applySymmetry + offset + normalizeHu, all 48 symmetries", () => {
  const { hu, shape } = chest([20, 24, 28]);
  const size: Vec3 = [8, 8, 8];
  const rng = createRng(1);
  const out = new Float32Array(512);
  for (const clip of [true, false]) {
    const window = { min: -1000, max: 400, clip };
    const norm = kernelNorm(-1000, 400, clip);
    for (let sym = 0; sym < SYMMETRY_COUNT; sym++) {
      for (let rep = 0; rep < 4; rep++) {
        // Half the origins reach outside the volume (padded with air).
        const origin = [0, 1, 2].map((a) => rng.int(shape[a] + 8) - 6) as Vec3;
        const offset = Math.fround(rng.uniform(-50, 50));
        augmentInto(hu, shape, origin, size, sym, offset, norm, out, 0);
        const ref = reference(hu, shape, origin, size, sym, offset, window);
        assert.ok(
          maxDiff(out, ref) < 1e-5,
          `sym ${sym} origin ${origin} clip ${clip}: ${maxDiff(out, ref)}`,
        );
      }
    }
  }
});

test("whole non-cubic volumes: the output shape permutes, contents match the reference", () => {
  const { hu, shape } = chest([6, 9, 13], 2);
  const norm = kernelNorm(-1000, 400, true);
  const out = new Float32Array(hu.length);
  for (let sym = 0; sym < SYMMETRY_COUNT; sym++) {
    augmentInto(hu, shape, [0, 0, 0], shape, sym, 0, norm, out, 0);
    const ref = reference(hu, shape, [0, 0, 0], shape, sym, 0, {
      min: -1000,
      max: 400,
      clip: true,
    });
    assert.ok(maxDiff(out, ref) < 1e-6, `sym ${sym}`);
  }
});

test("normalisation maps -1000 -> -1 and 400 -> 1, clipping as configured", () => {
  const hu = Int16Array.from([-1000, 400, -300, 1400, -2000, 0, 0, 0]);
  const out = new Float32Array(8);
  augmentInto(hu, [2, 2, 2], [0, 0, 0], [2, 2, 2], 0, 0, kernelNorm(-1000, 400, true), out, 0);
  assert.ok(maxDiff(out.slice(0, 5), [-1, 1, 0, 1, -1]) < 1e-6);
  augmentInto(hu, [2, 2, 2], [0, 0, 0], [2, 2, 2], 0, 0, kernelNorm(-1000, 400, false), out, 0);
  assert.ok(Math.abs(out[3] - 1 - 2000 / 1400) < 1e-6);
});

test("the wasm SIMD kernel equals the reference for all 48 symmetries (row, mirrored-row, 8x8-tile and tail paths)", (t) => {
  const { hu, shape } = chest([40, 37, 45], 4);
  const w = wasmVolume(hu, shape, 32 ** 3);
  if (!w) {
    t.skip("WebAssembly SIMD is not available here");
    return;
  }
  // The copy into the batch: the addon's non-temporal stores (where built) and the plain one.
  const copies = useNativeStreamCopy(true) ? [true, false] : [false];
  for (const native of copies) {
    useNativeStreamCopy(native);
    const rng = createRng(2);
    for (const clip of [true, false]) {
      const window = { min: -1000, max: 400, clip };
      const norm = kernelNorm(-1000, 400, clip);
      for (const d of [32, 16, 12, 5]) {
        const size: Vec3 = [d, d, d];
        const out = new Float32Array(d ** 3 + 7).fill(Number.NaN);
        for (let sym = 0; sym < SYMMETRY_COUNT; sym++) {
          // Inside, within the air border, and beyond it.
          const origin = [0, 1, 2].map((a) => rng.int(shape[a] + d + 8) - d - 4) as Vec3;
          const offset = Math.fround(rng.uniform(-50, 50));
          augmentIntoWasm(w, origin, size, sym, offset, norm, out, 7);
          const ref = reference(hu, shape, origin, size, sym, offset, window);
          assert.ok(
            maxDiff(out.subarray(7), ref) < 1e-5,
            `size ${d} sym ${sym} origin ${origin} clip ${clip} native copy ${native}`,
          );
          assert.ok(Number.isNaN(out[6]), "nothing written before the patch");
        }
      }
    }
  }
  useNativeStreamCopy(true);
});

test("the native kernel (AVX2 and portable) gives the wasm kernel's patches bit for bit, all 48 symmetries", (t) => {
  const kernel = nativeKernel();
  const { hu, shape } = chest([40, 37, 45], 4);
  const w = wasmVolume(hu, shape, 36 ** 3);
  if (!kernel || !w) {
    t.skip("the native addon or WebAssembly SIMD is not available here");
    return;
  }
  const rng = createRng(3);
  for (const clip of [true, false]) {
    const norm = kernelNorm(-1000, 400, clip);
    for (const size of [
      [32, 32, 32],
      [16, 16, 16],
      [12, 12, 12],
      [5, 5, 5],
      [8, 16, 24],
      // More than 32 planes: the native kernel's patch buffer is not padded.
      [36, 36, 36],
    ] as Vec3[]) {
      const per = size[0] * size[1] * size[2];
      const cubic = size[0] === size[1] && size[1] === size[2];
      const jobs: PatchJob[] = [];
      for (let sym = 0; sym < SYMMETRY_COUNT; sym++) {
        if (!cubic && sym !== 0) continue;
        // Inside, within the air border, and (sometimes) beyond it; boxes about the volume's
        // size inside it.
        const origin = [0, 1, 2].map((a) =>
          size[a] > 32
            ? rng.int(shape[a] - size[a] + 1)
            : rng.int(shape[a] + size[a] + 8) - size[a] - 4,
        ) as Vec3;
        jobs.push({
          origin,
          sym,
          offset: Math.fround(rng.uniform(-50, 50)),
          outOffset: 3 + jobs.length * per,
        });
      }
      const want = new Float32Array(3 + jobs.length * per + 5).fill(Number.NaN);
      for (const j of jobs)
        augmentIntoWasm(w, j.origin, size, j.sym, j.offset, norm, want, j.outOffset);
      for (const simd of [true, false]) {
        const got = new Float32Array(want.length).fill(Number.NaN);
        const rest = augmentManyNative(kernel, w, size, jobs, norm, got, simd);
        for (const j of rest)
          augmentIntoWasm(w, j.origin, size, j.sym, j.offset, norm, got, j.outOffset);
        assert.ok(rest.length < jobs.length, `most boxes are inside the air border (size ${size})`);
        assert.equal(
          Buffer.compare(Buffer.from(got.buffer), Buffer.from(want.buffer)),
          0,
          `size ${size} clip ${clip} simd ${simd}`,
        );
      }
    }
  }
  // Bad calls are refused: one 2^3 patch, job = [oz, oy, ox, perm0..2, flip bits, out offset].
  const call = (dims: Int32Array, job: number[]) => () =>
    kernel(
      w.hu,
      dims,
      Int32Array.of(2, 2, 2),
      Int32Array.from(job),
      new Float32Array(1),
      new Float32Array(3),
      new Float32Array(8),
    );
  const dims = Int32Array.from(w.padded);
  assert.throws(call(Int32Array.of(1, 1, 1), [0, 0, 0, 0, 1, 2, 0, 0]), /vol length/);
  assert.throws(call(dims, [0, 0, 0, 0, 1, 2, 0, 1]), /does not fit/);
  assert.throws(call(dims, [0, 0, dims[2] - 1, 0, 1, 2, 0, 0]), /outside the volume/);
  assert.throws(call(dims, [0, 0, 0, 0, 0, 2, 0, 0]), /permutation/);
});
