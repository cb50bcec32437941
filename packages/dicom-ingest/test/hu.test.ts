import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type HuParams, huParams, storedToHu } from "../src/hu.ts";
import { simdKernels } from "../src/hu-simd.ts";

/** The HU rule of the README, one voxel at a time, written the obvious way. */
function reference(word: number, p: HuParams): number {
  const bits = p.bitsStored;
  let v = word & (bits >= 16 ? 0xffff : (1 << bits) - 1);
  if (p.signed && v >= 2 ** (bits - 1)) v -= 2 ** bits;
  if (p.padding && v >= p.padding[0] && v <= p.padding[1]) return -1000;
  const r = v * p.slope + p.intercept;
  const h = r >= 0 ? Math.floor(r + 0.5) : -Math.floor(-r + 0.5);
  return Math.min(32767, Math.max(-1024, h));
}

// Every 16-bit word, repeated past one chunk of the SIMD memory, with a tail that is not a
// multiple of 8 voxels, at an odd start (words not aligned to the chunk).
const N = 2 * 65536 * 2 + 13;
function allWords(): Uint16Array {
  const w = new Uint16Array(N);
  for (let i = 0; i < N; i++) w[i] = (i * 40503 + 7) & 0xffff;
  return w;
}

const CASES: [string, Parameters<typeof huParams>[0]][] = [
  ["signed, intercept 0, no padding", { pixelRepresentation: 1, bitsStored: 16 }],
  [
    "signed, intercept 0, padding -2000",
    { pixelRepresentation: 1, bitsStored: 16, pixelPaddingValue: -2000 & 0xffff },
  ],
  [
    "signed, intercept 0, padding range -3024..-2000",
    {
      pixelRepresentation: 1,
      bitsStored: 16,
      pixelPaddingValue: -2000 & 0xffff,
      pixelPaddingRangeLimit: -3024 & 0xffff,
    },
  ],
  [
    "signed, intercept 0, padding range above -1024",
    {
      pixelRepresentation: 1,
      bitsStored: 16,
      pixelPaddingValue: 100,
      pixelPaddingRangeLimit: 0xfc18,
    },
  ],
  [
    "signed, intercept 0, padding 32767",
    { pixelRepresentation: 1, bitsStored: 16, pixelPaddingValue: 32767 },
  ],
  [
    "unsigned, intercept -1024",
    { pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: -1024 },
  ],
  ["unsigned, intercept 0", { pixelRepresentation: 0, bitsStored: 16 }],
  ["unsigned, intercept 1000", { pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: 1000 }],
  [
    "unsigned, intercept 32767",
    { pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: 32767 },
  ],
  [
    "unsigned, intercept -1000",
    { pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: -1000 },
  ],
  // Cases that stay in JavaScript (for comparison of the dispatch)
  [
    "unsigned, intercept -2000",
    { pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: -2000 },
  ],
  [
    "unsigned, padding 0, intercept -1024",
    { pixelRepresentation: 0, bitsStored: 16, rescaleIntercept: -1024, pixelPaddingValue: 0 },
  ],
  ["signed, intercept -1024", { pixelRepresentation: 1, bitsStored: 16, rescaleIntercept: -1024 }],
  ["signed 12 bits", { pixelRepresentation: 1, bitsStored: 12, rescaleIntercept: 0 }],
];

describe("storedToHu equals the rule for every 16-bit word", () => {
  test("the WebAssembly SIMD kernels load (Node 20+)", () => {
    assert.ok(simdKernels, "WebAssembly SIMD kernels unavailable");
  });
  for (const [name, h] of CASES) {
    test(name, () => {
      const p = huParams(h);
      const words = allWords();
      const expected = Int16Array.from(words, (w) => reference(w, p));
      // into a separate array, at an offset
      const out = new Int16Array(N + 5);
      storedToHu(words, p, out, 5);
      assert.deepEqual(out.subarray(5), expected);
      // in place (the read path: words and output share their bytes), from an odd offset
      for (const start of [0, 3]) {
        const buf = new Int16Array(N);
        new Uint16Array(buf.buffer).set(words);
        const w = new Uint16Array(buf.buffer, start * 2, N - start);
        storedToHu(w, p, buf, start);
        assert.deepEqual(buf.subarray(start), expected.subarray(start));
      }
    });
  }
});
