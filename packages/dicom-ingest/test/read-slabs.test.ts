import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, rmSync, truncateSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import type { SlabRunner } from "@lungflow/volume";
import { discoverSeries, isDicomError, readSeries } from "../src/index.ts";
import { tempDir, writeTestSeries } from "./helpers/series.ts";

const tmp = tempDir();
after(tmp.cleanup);

/** Splits like a threaded runner (shared memory), runs the parts last to first, here. */
function reversedRunner(): SlabRunner & { parts: number[] } {
  const parts: number[] = [];
  return {
    parts,
    alloc: (ctor, length) => new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT)),
    forEach(kernel, n, args) {
      parts.push(n);
      for (let p = n - 1; p >= 0; p--) kernel.run(args, p);
    },
  };
}

test("a split, hashing read gives the same volume; digests are the files' SHA-256", async () => {
  for (const syntax of ["explicit", "implicit", "big"] as const) {
    for (const encoding of ["int16", "uint16", "slope2"] as const) {
      const dir = path.join(tmp.dir, `${syntax}-${encoding}`);
      writeTestSeries(dir, { syntax, encoding, seed: 5, nz: 20 });
      const plain = await readSeries(dir);
      assert.equal(plain.meta.fileDigests, undefined);
      const runner = reversedRunner();
      const split = await readSeries(dir, { runner, digest: true });
      assert.deepEqual(runner.parts, [3], "20 slices in parts of 8");
      assert.ok(split.volume.data.buffer instanceof SharedArrayBuffer);
      assert.deepEqual(
        Buffer.from(split.volume.data.buffer),
        Buffer.from(plain.volume.data.buffer),
        `${syntax} ${encoding}`,
      );
      assert.deepEqual(split.meta.sourceShape, plain.meta.sourceShape);
      const digests = split.meta.fileDigests ?? [];
      assert.equal(digests.length, 20);
      assert.deepEqual(
        digests.map((d) => d.file),
        plain.meta.files,
      );
      for (const d of digests) {
        const bytes = readFileSync(d.file);
        assert.equal(d.bytes, bytes.length);
        assert.equal(d.sha256, createHash("sha256").update(bytes).digest("hex"));
      }
      // Hashing without a runner: the same, on this thread.
      const serial = await readSeries(dir, { digest: true });
      assert.deepEqual(serial.meta.fileDigests, digests);
    }
  }
});

test("a file cut after discovery is TRUNCATED naming it; a removed one READ_FAILED", async () => {
  const dir = path.join(tmp.dir, "cut");
  const { files } = writeTestSeries(dir, { nz: 10 });
  const found = await discoverSeries(dir);
  const series = found.patients[0].chosen!;
  truncateSync(files[4], readFileSync(files[4]).length - 40);
  for (const digest of [true, false]) {
    await assert.rejects(readSeries(series, { runner: reversedRunner(), digest }), (e) => {
      assert.ok(isDicomError(e, "TRUNCATED"), String(e));
      assert.equal(e.context.file, files[4]);
      return true;
    });
  }
  rmSync(files[4]);
  await assert.rejects(readSeries(series, { runner: reversedRunner(), digest: true }), (e) => {
    assert.ok(isDicomError(e, "READ_FAILED"), String(e));
    assert.equal(e.context.file, files[4]);
    assert.match(e.message, new RegExp(path.basename(files[4])));
    return true;
  });
});
