import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { discoverSeries, isDicomError, readSeries } from "../src/index.ts";
import { rng, tempDir, writeTestSeries } from "./helpers/series.ts";

const tmp = tempDir("dicom-ingest-fuzz-");
after(tmp.cleanup);

// A bad file must end as a DicomError (or be skipped), never as another exception.
test("corrupted files (cut anywhere, bytes flipped) give DicomErrors or recoveries, never crashes", async () => {
  const r = rng(2024);
  for (const syntax of ["explicit", "implicit"] as const) {
    const dir = path.join(tmp.dir, syntax);
    const { files } = writeTestSeries(dir, {
      nz: 3,
      ny: 8,
      nx: 8,
      syntax,
      slice: () => ({ padding: -2000 }),
    });
    const victim = files[1];
    const original = readFileSync(victim);
    const outcomes = new Map<string, number>();
    for (let k = 0; k < 60; k++) {
      const buf = Buffer.from(original);
      let bytes: Buffer = buf;
      if (k % 3 === 0) bytes = buf.subarray(0, Math.floor(r() * buf.length));
      else {
        const flips = 1 + Math.floor(r() * 4);
        for (let f = 0; f < flips; f++)
          buf[132 + Math.floor(r() * (buf.length - 132 - 128))] = Math.floor(r() * 256);
      }
      writeFileSync(victim, bytes);
      let outcome = "ok";
      try {
        await readSeries(dir);
      } catch (e) {
        assert.ok(
          isDicomError(e),
          `mutation ${k} (${syntax}): ${e instanceof Error ? e.stack : String(e)}`,
        );
        outcome = e.code;
      }
      const d = await discoverSeries(dir);
      assert.equal(d.fileCount, 3);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    writeFileSync(victim, original);
    // The mutations reach both outcomes: recoveries and several distinct codes.
    assert.ok(outcomes.size >= 3, JSON.stringify([...outcomes]));
  }
});
