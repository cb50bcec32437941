import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, test } from "node:test";
import { discoverSeries, isDicomError, readSeries } from "../src/index.ts";
import { mutate } from "./helpers/mutate.ts";
import { rng, tempDir, writeTestSeries } from "./helpers/series.ts";
import { SYNTAXES, writeSyntaxSeries } from "./helpers/syntax-series.ts";

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

/** Mutations per transfer syntax (2,200 files in all; `pnpm fuzz` in this package runs more). */
const PER_SYNTAX = 200;

for (const name of Object.keys(SYNTAXES)) {
  test(`fuzz ${name}: ${PER_SYNTAX} mutated files end as a volume or a DicomError, never an I/O code`, async () => {
    const dir = path.join(tmp.dir, `ts-${name}`);
    const { hu, files } = await writeSyntaxSeries(dir, name);
    const clean = await readSeries(dir);
    assert.deepEqual(clean.volume.data, hu, "the unmutated series reads exactly");
    assert.deepEqual(clean.meta.transferSyntaxUids, [SYNTAXES[name].uid]);
    const r = rng(18_000 + name.length * 31 + name.charCodeAt(0));
    const codes = new Map<string, number>();
    for (let k = 0; k < PER_SYNTAX; k++) {
      const victim = files[k % files.length];
      const original = readFileSync(victim);
      writeFileSync(victim, mutate(original, r));
      let outcome = "ok";
      let shape: number[] | undefined;
      let voxels = 0;
      try {
        const { volume } = await readSeries(dir);
        shape = [...volume.shape];
        voxels = volume.data.length;
      } catch (e) {
        assert.ok(
          isDicomError(e),
          `${name} mutation ${k}: not a DicomError: ${e instanceof Error ? e.stack : e}`,
        );
        // Nothing here fails to read from disk: an I/O code would be a relabelled bug.
        outcome = e.code;
        assert.ok(
          outcome !== "READ_FAILED" && outcome !== "INTERNAL",
          `${name} mutation ${k}: ${e.message}`,
        );
      }
      if (shape) assert.equal(voxels, shape[0] * shape[1] * shape[2]);
      const d = await discoverSeries(dir);
      for (const s of d.skipped)
        assert.ok(
          s.code !== "READ_FAILED" && s.code !== "INTERNAL",
          `${name} ${k}: ${s.code} ${s.reason}`,
        );
      codes.set(outcome, (codes.get(outcome) ?? 0) + 1);
      writeFileSync(victim, original);
    }
    assert.ok(codes.size >= 3, JSON.stringify([...codes]));
  });
}
