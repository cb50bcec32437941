import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { type DicomErrorCode, isDicomError, PLAUSIBLE_RANGES, readSeries } from "../src/index.ts";
import { tempDir, writeTestSeries } from "./helpers/series.ts";
import type { CtSliceOptions } from "./helpers/write-dicom.ts";

const tmp = tempDir("dicom-ingest-bad-");
after(tmp.cleanup);
let n = 0;
const fresh = () => path.join(tmp.dir, `s${n++}`);

/** Rejects with `code`, naming a file of the series (and, when given, `tag` and `value`). */
async function refused(
  dir: string,
  code: DicomErrorCode,
  want: { tag?: string; value?: unknown; file?: string } = {},
) {
  await assert.rejects(readSeries(dir), (e: unknown) => {
    assert.ok(isDicomError(e), `expected a DicomError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.ok(e.context.file?.startsWith(dir), `no file named: ${e.message}`);
    if (want.file) assert.equal(e.context.file, want.file);
    if ("tag" in want) assert.equal(e.context.tag, want.tag);
    if ("value" in want) assert.equal(e.context.value, want.value);
    if (typeof want.value === "string") assert.ok(e.message.includes(want.value), e.message);
    return true;
  });
}

/** A 3-slice series where slice 1 gets `over`. */
function series(over: Partial<CtSliceOptions>, o: Parameters<typeof writeTestSeries>[1] = {}) {
  const dir = fresh();
  const w = writeTestSeries(dir, {
    nz: 3,
    ny: 8,
    nx: 8,
    slice: (z) => (z === 1 ? over : {}),
    ...o,
  });
  return { dir, ...w };
}

describe("values the HU rule needs are refused, never defaulted", () => {
  for (const slope of ["0", "-1", "1e-400", "-0"]) {
    test(`RescaleSlope ${slope} -> INVALID_VALUE`, async () => {
      const s = series({ slope: slope as unknown as number });
      await refused(s.dir, "INVALID_VALUE", { tag: "RescaleSlope", file: s.files[1] });
    });
  }
  for (const slope of ["Infinity", "1e400", "NaN", "abc", "1.0abc"]) {
    test(`RescaleSlope "${slope}" (not a finite number) -> INVALID_VALUE naming it`, async () => {
      const s = series({ slope: slope as unknown as number });
      await refused(s.dir, "INVALID_VALUE", { tag: "RescaleSlope", value: slope });
    });
  }
  for (const intercept of ["NaN", "abc", "", "-1024x"]) {
    test(`RescaleIntercept "${intercept}" -> INVALID_VALUE (was read as 0: +1024 HU)`, async () => {
      const s = series({ intercept: intercept as unknown as number }, { encoding: "uint16" });
      await refused(s.dir, "INVALID_VALUE", {
        tag: "RescaleIntercept",
        value: intercept,
        file: s.files[1],
      });
    });
  }
  test("absent RescaleSlope and RescaleIntercept take the defaults 1 and 0", async () => {
    const s = series({}, { slice: () => ({ noRescale: true }) });
    const { volume } = await readSeries(s.dir);
    assert.deepEqual([...volume.data], [...s.hu]);
  });
});

describe("geometry values outside the plausible ranges are refused at read time", () => {
  for (const ps of [
    [0, 0],
    [-5.6, -5.6],
    [1e5, 1e5],
    [0.7, 0.001],
  ]) {
    test(`PixelSpacing ${ps.join("\\")} -> INVALID_VALUE`, async () => {
      const dir = fresh();
      writeTestSeries(dir, { nz: 3, ny: 8, nx: 8, pixelSpacing: ps as [number, number] });
      await refused(dir, "INVALID_VALUE", { tag: "PixelSpacing", value: ps.join("\\") });
    });
  }
  test('PixelSpacing "abc\\0.7" -> INVALID_VALUE (not MISSING_TAG)', async () => {
    const s = series({ pixelSpacing: ["abc", 0.7] as unknown as number[] });
    await refused(s.dir, "INVALID_VALUE", { tag: "PixelSpacing", value: "abc\\0.7" });
  });
  for (const dz of [100, 0.02]) {
    test(`slice distance ${dz} mm -> INVALID_VALUE`, async () => {
      const dir = fresh();
      writeTestSeries(dir, { nz: 3, ny: 8, nx: 8, dz });
      await refused(dir, "INVALID_VALUE", { tag: "slice distance" });
    });
  }
  test("the documented ranges hold the usual CT values", () => {
    const R = PLAUSIBLE_RANGES;
    assert.ok(R.rows[0] <= 1 && R.rows[1] >= 2048 && R.columns[1] >= 2048);
    assert.ok(R.pixelSpacingMm[0] <= 0.1 && R.pixelSpacingMm[1] >= 2);
    assert.ok(R.sliceDistanceMm[0] <= 0.3 && R.sliceDistanceMm[1] >= 10);
  });
  for (const [iop, why] of [
    [[0, 0, 0, 0, 0, 0], /length 0/],
    [[1, 0, 0, 1, 0, 0], /not perpendicular/],
    [[1, 0, 0, 0, 2, 0], /length 2/],
  ] as const) {
    test(`ImageOrientationPatient ${iop.join("\\")} -> DEGENERATE_ORIENTATION (not NOT_AXIAL)`, async () => {
      const dir = fresh();
      writeTestSeries(dir, { nz: 3, ny: 8, nx: 8, slice: () => ({ iop: [...iop] }) });
      await assert.rejects(readSeries(dir), (e: unknown) => {
        assert.ok(isDicomError(e, "DEGENERATE_ORIENTATION"), String(e));
        assert.match(e.message, why);
        assert.equal(e.context.value, iop.join("\\"));
        return true;
      });
    });
  }
});

/** Overwrites the US value of (0028,eeee) in an explicit little-endian file. */
function patchUs(file: string, element: number, value: number) {
  const b = readFileSync(file);
  const key = Buffer.from([0x28, 0x00, element & 0xff, element >> 8, 0x55, 0x53]); // "US"
  const at = b.indexOf(key);
  assert.ok(at > 0);
  b.writeUInt16LE(value, at + 8);
  writeFileSync(file, b);
}

describe("sizes are checked against the file before the volume is allocated", () => {
  test("Rows = Columns = 16384 -> INVALID_VALUE naming Rows (was a RangeError relabelled READ_FAILED)", async () => {
    const s = series({});
    for (const f of s.files) {
      patchUs(f, 0x0010, 16384);
      patchUs(f, 0x0011, 16384);
    }
    await refused(s.dir, "INVALID_VALUE", { tag: "Rows", value: 16384 });
  });
  test("Rows = 0 -> INVALID_VALUE", async () => {
    const s = series({});
    for (const f of s.files) patchUs(f, 0x0010, 0);
    await refused(s.dir, "INVALID_VALUE", { tag: "Rows", value: 0 });
  });
  test("4000 x 4000 claimed with 128 bytes of pixel data -> DECODE_FAILED before allocating", async () => {
    const s = series({});
    for (const f of s.files) {
      patchUs(f, 0x0010, 4000);
      patchUs(f, 0x0011, 4000);
    }
    await assert.rejects(readSeries(s.dir), (e: unknown) => {
      assert.ok(isDicomError(e, "DECODE_FAILED"), String(e));
      assert.match(e.message, /pixel data has 128 bytes, 4000x4000x2/);
      return true;
    });
  });
});

describe("a slice dropped from a series is named, with the reason", () => {
  for (const syntax of ["implicit", "explicit"] as const) {
    test(`${syntax}: a zero-byte slice -> TRUNCATED naming it (was MISSING_SLICES)`, async () => {
      const dir = fresh();
      const w = writeTestSeries(dir, { nz: 5, ny: 8, nx: 8, syntax });
      writeFileSync(w.files[2], "");
      await refused(dir, "TRUNCATED", { file: w.files[2] });
    });
    test(`${syntax}: a slice cut anywhere after its preamble -> TRUNCATED or NO_PIXEL_DATA naming it`, async () => {
      const dir = fresh();
      const w = writeTestSeries(dir, { nz: 5, ny: 8, nx: 8, syntax });
      const whole = readFileSync(w.files[2]);
      const seen = new Set<string>();
      for (let cut = 132; cut < whole.length; cut += 5) {
        writeFileSync(w.files[2], whole.subarray(0, cut));
        await assert.rejects(readSeries(dir), (e: unknown) => {
          assert.ok(isDicomError(e, "TRUNCATED", "NO_PIXEL_DATA"), `cut at ${cut}: ${e}`);
          assert.equal(e.context.file, w.files[2], `cut at ${cut}: ${e.message}`);
          seen.add(e.code);
          return true;
        });
      }
      assert.deepEqual([...seen].sort(), ["NO_PIXEL_DATA", "TRUNCATED"]);
    });
    test(`${syntax}: a slice cut inside its preamble -> MISSING_SLICES listing it as dropped`, async () => {
      const dir = fresh();
      const w = writeTestSeries(dir, { nz: 5, ny: 8, nx: 8, syntax });
      writeFileSync(w.files[2], Buffer.alloc(60));
      await assert.rejects(readSeries(dir), (e: unknown) => {
        assert.ok(isDicomError(e, "MISSING_SLICES"), String(e));
        const dropped = e.context.droppedFiles as { file: string; code: string; reason: string }[];
        assert.deepEqual(dropped, [
          { file: w.files[2], code: "NOT_DICOM", reason: dropped[0].reason },
        ]);
        assert.ok(e.message.includes(w.files[2]), e.message);
        return true;
      });
    });
  }
});
