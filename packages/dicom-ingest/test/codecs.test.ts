import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, statSync, truncateSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { decodePixelData } from "../src/decode/pixel-data.ts";
import { decodeRle16 } from "../src/decode/rle.ts";
import { extractHeader } from "../src/header.ts";
import { isDicomError, readSeries } from "../src/index.ts";
import { readDataSet } from "../src/parse.ts";
import { rng, tempDir, writeTestSeries } from "./helpers/series.ts";

const hasGdcm = spawnSync("gdcmconv", ["--version"]).status === 0;
const skip = hasGdcm ? false : "gdcmconv (Debian libgdcm-tools) is not installed";

const CODECS = [
  ["jpeg", "1.2.840.10008.1.2.4.70"],
  ["jpegls", "1.2.840.10008.1.2.4.80"],
  ["j2k", "1.2.840.10008.1.2.4.90"],
  ["rle", "1.2.840.10008.1.2.5"],
  ["deflated", "1.2.840.10008.1.2.1.99"],
] as const;

const tmp = tempDir();
after(tmp.cleanup);

async function words(file: string): Promise<{ words: Uint16Array; ts?: string }> {
  const parsed = await readDataSet(file);
  const header = extractHeader(parsed);
  return { words: (await decodePixelData(parsed, header)).slice(), ts: header.transferSyntaxUid };
}

describe("compressed transfer syntaxes decode bit for bit (files converted by gdcmconv)", {
  skip,
}, () => {
  // int16 with sentinels and padding; uint16 with 12 bits stored (intercept -1024).
  const variants = {
    int16: { encoding: "int16" as const, slice: () => ({ padding: -2000 }) },
    uint12: { encoding: "uint16" as const, slice: () => ({ bitsStored: 12 }) },
  };
  for (const [vname, v] of Object.entries(variants)) {
    const src = path.join(tmp.dir, vname, "native");
    const r = rng(11);
    const hu = new Int16Array(3 * 20 * 24).map(() => Math.floor(r() * 3000) - 1024);
    if (vname === "int16") for (let i = 0; i < hu.length; i += 7) hu[i] = -2000;
    for (let i = 0; i < hu.length; i += 13) hu[i] = 3071; // high values exercise every bit
    const written = writeTestSeries(src, { nz: 3, ny: 20, nx: 24, hu, ...v });
    for (const [codec, uid] of CODECS) {
      test(`${vname} ${codec}`, async () => {
        const dir = path.join(tmp.dir, vname, codec);
        mkdirSync(dir, { recursive: true });
        for (const f of written.files)
          execFileSync("gdcmconv", [`--${codec}`, f, path.join(dir, path.basename(f))]);
        for (const f of written.files) {
          const a = await words(f);
          const b = await words(path.join(dir, path.basename(f)));
          assert.equal(b.ts, uid);
          assert.deepEqual(b.words, a.words, `${codec} frame of ${path.basename(f)} differs`);
        }
        const native = await readSeries(src);
        const coded = await readSeries(dir);
        assert.deepEqual(coded.volume.data, native.volume.data);
        assert.deepEqual(coded.meta.transferSyntaxUids, [uid]);
        assert.equal(readdirSync(dir).length, 3);
        // Cut inside the compressed stream: TRUNCATED, naming the file.
        const victim = path.join(dir, path.basename(written.files[1]));
        truncateSync(victim, Math.floor(statSync(victim).size * 0.7));
        await assert.rejects(
          readSeries(dir),
          (e: unknown) => isDicomError(e, "TRUNCATED") && e.context.file === victim,
        );
      });
    }
  }
});

test("RLE PackBits decoder: literal runs, repeats and the -128 no-op", () => {
  // 4 pixels: high bytes [1,1,1,2] as repeat(3x1) + literal(2); low bytes literal [10,20,30,40]
  const high = [0xfe, 1, 0x80, 0x00, 2];
  const low = [0x03, 10, 20, 30, 40];
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 2, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, 64 + high.length, true);
  const frame = new Uint8Array([...header, ...high, ...low]);
  assert.deepEqual([...decodeRle16(frame, 4)], [0x010a, 0x0114, 0x011e, 0x0228]);
  assert.throws(() => decodeRle16(frame.subarray(0, 40), 4), /no header/);
});
