import assert from "node:assert/strict";
import { test } from "node:test";
import { nativeStreamCopy } from "../src/index.ts";

test("streamCopy writes exactly src at dstOffset, aligned or not, short or long, and checks bounds", () => {
  const copy = nativeStreamCopy();
  assert.ok(copy, "the addon is built and has streamCopy");
  for (const n of [0, 1, 15, 63, 64, 65, 1000, 32768]) {
    const src = Float32Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i) * 1e3));
    for (const off of [0, 1, 2, 3, 4, 7, 16]) {
      const dst = new Float32Array(n + off + 5).fill(Number.NaN);
      copy(src, dst, off);
      assert.deepEqual(dst.subarray(off, off + n), src, `n ${n} offset ${off}`);
      // Nothing written around it.
      for (let i = 0; i < off; i++) assert.ok(Number.isNaN(dst[i]), `before, n ${n} offset ${off}`);
      for (let i = off + n; i < dst.length; i++)
        assert.ok(Number.isNaN(dst[i]), `after, n ${n} offset ${off}`);
    }
  }
  // Views with their own byte offsets (a wasm memory's patch area, say).
  const buf = new ArrayBuffer(4 * 300);
  const src = new Float32Array(buf, 4 * 3, 200).fill(2.5);
  const dst = new Float32Array(400);
  copy(src, dst, 101);
  assert.equal(dst[100], 0);
  assert.equal(dst[101], 2.5);
  assert.equal(dst[300], 2.5);
  assert.equal(dst[301], 0);
  assert.throws(() => copy(src, dst, 201), /dstOffset/);
  assert.throws(() => copy(src, dst, -1), /dstOffset/);
  assert.throws(() => copy(src, dst, 1.5), /dstOffset/);
  assert.throws(() => copy(new Int16Array(4) as never, dst, 0), /Float32Array/);
});
