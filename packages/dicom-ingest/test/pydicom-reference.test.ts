import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { readSeries } from "../src/index.ts";
import { pydicomHu, pydicomSkip as skip } from "./helpers/pydicom.ts";
import { rng, type TestSeriesOptions, tempDir, writeTestSeries } from "./helpers/series.ts";

const tmp = tempDir();
after(tmp.cleanup);

// Stored values drawn across the whole 16-bit range, so that sentinels, padding, sign
// extension and rounding are all exercised.
function storedNoise(seed: number, n: number, lo: number, hi: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

const N = 16 * 18;
const cases: Record<string, TestSeriesOptions> = {
  "explicit int16, padding -2000": {
    syntax: "explicit",
    slice: (z) => ({ stored: storedNoise(z, N, -3100, 3100), signed: true, padding: -2000 }),
  },
  "implicit uint16, intercept -1024": {
    syntax: "implicit",
    slice: (z) => ({
      stored: storedNoise(z + 10, N, 0, 65535),
      signed: false,
      intercept: -1024,
      padding: 0,
    }),
  },
  "explicit uint16, slope 2": {
    slice: (z) => ({
      stored: storedNoise(z + 20, N, 0, 5000),
      signed: false,
      slope: 2,
      intercept: -1024,
    }),
  },
  "signed 12 bits, padding range": {
    syntax: "implicit",
    slice: (z) => ({
      stored: storedNoise(z + 30, N, 0, 65535),
      signed: true,
      bitsStored: 12,
      padding: 0xf800,
      paddingLimit: 0xf900,
    }),
  },
  "fractional slope and intercept": {
    slice: (z) => ({
      stored: storedNoise(z + 40, N, 0, 4095),
      signed: false,
      slope: 0.5,
      intercept: -1024.5,
    }),
  },
  "int16, padding range -5..5 (inside the HU range)": {
    slice: (z) => ({
      stored: storedNoise(z + 60, N, -3100, 3100),
      signed: true,
      padding: 5,
      paddingLimit: -5,
    }),
  },
  "uint16, intercept -1024, no padding (values up to 65535)": {
    slice: (z) => ({ stored: storedNoise(z + 70, N, 0, 65535), signed: false, intercept: -1024 }),
  },
  "big endian int16": {
    syntax: "big",
    slice: (z) => ({ stored: storedNoise(z + 50, N, -32768, 32767), signed: true }),
  },
};

describe("HU equal pydicom + the HU rule, voxel for voxel", { skip }, () => {
  const dirs = Object.keys(cases).map((name) => path.join(tmp.dir, name.replace(/\W+/g, "_")));
  let refs: ReturnType<typeof pydicomHu> = [];
  before(() => {
    Object.values(cases).forEach((opts, i) => {
      writeTestSeries(dirs[i], { nz: 4, ny: 16, nx: 18, ...opts });
    });
    refs = pydicomHu(dirs);
  });
  Object.keys(cases).forEach((name, i) => {
    test(name, async () => {
      const ref = refs[i];
      const { volume } = await readSeries(dirs[i]);
      assert.deepEqual(volume.shape, ref.shape);
      assert.deepEqual(volume.data, ref.hu);
      assert.deepEqual(volume.origin, ref.origin);
      for (let j = 0; j < 3; j++) assert.ok(Math.abs(volume.spacing[j] - ref.spacing[j]) < 1e-9);
    });
  });
});
