import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeJpeg2000, decodeJpegLossless, decodeJpegLs } from "../src/decode/codecs.ts";
import { encodeJpeg2000, encodeJpegLossless, encodeJpegLs } from "./helpers/encode-frames.ts";
import { rng } from "./helpers/series.ts";

const W = 16;
const H = 12;
const r = rng(18);
const PIXELS = new Uint16Array(W * H).map(() => Math.floor(r() * 4096));

const CODECS = [
  {
    name: "JPEG-LS",
    encode: () => encodeJpegLs(PIXELS, W, H),
    decode: async (f: Uint8Array) => (await decodeJpegLs(f)).data,
  },
  {
    name: "JPEG 2000",
    encode: () => encodeJpeg2000(PIXELS, W, H),
    decode: async (f: Uint8Array) => (await decodeJpeg2000(f)).data,
  },
  {
    name: "JPEG lossless",
    encode: async () => encodeJpegLossless(PIXELS, W, H),
    decode: (f: Uint8Array) => decodeJpegLossless(f, W * H),
  },
];

// A codec that throws must not stay broken: after 1,000 corrupt frames (bytes overwritten,
// or the stream cut), the valid frame still decodes exactly. Before the codec instance was
// re-created after an error, JPEG-LS failed every decode after about 270 corrupt frames.
for (const c of CODECS) {
  test(`${c.name}: 1,000 corrupt frames, then a valid one decodes exactly`, async () => {
    const valid = await c.encode();
    assert.deepEqual(await c.decode(valid), PIXELS, "the encoder's frame round-trips");
    const rand = rng(1000 + valid.length);
    let failed = 0;
    for (let k = 0; k < 1000; k++) {
      let frame = valid.slice();
      if (k % 2 === 0) {
        const flips = 1 + Math.floor(rand() * 4);
        for (let i = 0; i < flips; i++) frame[Math.floor(rand() * frame.length)] = rand() * 256;
      } else frame = frame.subarray(0, Math.floor(rand() * frame.length));
      try {
        await c.decode(frame);
      } catch {
        failed++;
      }
    }
    assert.ok(failed >= 200, `only ${failed} of 1000 corrupt frames failed: the test is too weak`);
    assert.deepEqual(await c.decode(valid), PIXELS);
  });
}
