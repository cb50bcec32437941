import assert from "node:assert/strict";
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { type DicomErrorCode, isDicomError, readSeries } from "../src/index.ts";
import { tempDir, writeTestSeries } from "./helpers/series.ts";

const tmp = tempDir();
after(tmp.cleanup);
let n = 0;
const fresh = () => path.join(tmp.dir, `s${n++}`);

async function rejectsWith(
  p: Promise<unknown>,
  code: DicomErrorCode,
  check?: (e: { context: Record<string, unknown>; message: string }) => void,
) {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isDicomError(e), `expected a DicomError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    check?.(e);
    return true;
  });
}

describe("good encodings give the exact HU", () => {
  for (const syntax of ["explicit", "implicit", "big"] as const) {
    for (const encoding of ["int16", "uint16", "slope2"] as const) {
      test(`${syntax} VR, ${encoding}`, async () => {
        const dir = fresh();
        const { hu, shape } = writeTestSeries(dir, { syntax, encoding, seed: 3 });
        const { volume, meta } = await readSeries(dir);
        assert.deepEqual(volume.shape, shape);
        assert.deepEqual([...volume.data], [...hu]);
        assert.deepEqual(
          volume.spacing.map((v) => +v.toFixed(6)),
          [1.25, 0.7, 0.65],
        );
        assert.deepEqual(volume.origin, [-30.5, -20.25, 100]);
        assert.deepEqual(volume.direction, [
          [0, 0, 1],
          [0, 1, 0],
          [1, 0, 0],
        ]);
        assert.equal(meta.fileCount, 6);
        assert.equal(meta.patientId, "PAT1");
        assert.equal(meta.seriesInstanceUid, "1.2.3.4.1.1");
        assert.deepEqual(meta.sourceShape, shape);
        assert.deepEqual(meta.warnings, []);
      });
    }
  }

  test("order comes from positions along the normal, also for a reversed normal", async () => {
    const dir = fresh();
    // Rows along -X, columns along +Y: normal is -Z, so slices sort by descending Z.
    const { hu } = writeTestSeries(dir, { slice: () => ({ iop: [-1, 0, 0, 0, 1, 0] }), nz: 4 });
    const { volume } = await readSeries(dir);
    const plane = 12 * 10;
    for (let z = 0; z < 4; z++) {
      assert.deepEqual(
        [...volume.data.subarray(z * plane, (z + 1) * plane)],
        [...hu.subarray((3 - z) * plane, (4 - z) * plane)],
      );
    }
    assert.deepEqual(volume.direction[0], [0, 0, -1]);
    assert.equal(volume.origin[2], 100 + 3 * 1.25);
  });

  test("padding, padding range, sentinels below -1024, signed 12-bit, fractional rescale", async () => {
    const dir = fresh();
    const stored = [-2000, -2000, -1500, 0, 100, -1025, -1024, 2047, 4095, -1];
    // Slice 0: int16 with padding -2000 (and sentinel -1500 clamped)
    // Slice 1: uint16 with padding range 0..5 (intercept -1024)
    // Slice 2: signed 12 bits: 4095 is -1 and 2047 stays 2047; padding -2048 given as 0xF800
    // Slice 3: slope 0.5, intercept -1024.5: halves round away from zero
    const slices = [
      { stored, signed: true, padding: -2000 },
      {
        stored: [0, 3, 5, 6, 1024, 2048, 7, 0, 9, 4],
        signed: false,
        intercept: -1024,
        padding: 5,
        paddingLimit: 0,
      },
      {
        stored: [0xf800, 4095, 2047, 0x0800, 0x1fff, 100, 0, 0, 0, 0],
        signed: true,
        bitsStored: 12,
        padding: 0xf800,
      },
      {
        stored: [0, 1, 2, 3, 2048, 2049, 4096, 5, 6, 7],
        signed: false,
        slope: 0.5,
        intercept: -1024.5,
      },
    ];
    writeTestSeries(dir, { nz: 4, ny: 1, nx: 10, slice: (z) => slices[z] });
    const { volume } = await readSeries(dir);
    const rows = [0, 1, 2, 3].map((z) => [...volume.data.subarray(z * 10, z * 10 + 10)]);
    assert.deepEqual(rows[0], [-1000, -1000, -1024, 0, 100, -1024, -1024, 2047, 4095, -1]);
    assert.deepEqual(rows[1], [-1000, -1000, -1000, -1018, 0, 1024, -1017, -1000, -1015, -1000]);
    // 0x0800 is -2048 in 12 bits (padding), 0x1fff is -1 (bits above 12 ignored)
    assert.deepEqual(rows[2], [-1000, -1, 2047, -1000, -1, 100, 0, 0, 0, 0]);
    // v*0.5 - 1024.5: 0 -> -1024.5 -> -1025 -> clamp -1024; 1 -> -1024; 2 -> -1023.5 -> -1024;
    // 3 -> -1023; 2048 -> -0.5 -> -1; 2049 -> 0; 4096 -> 1023.5 -> 1024
    assert.deepEqual(rows[3], [-1024, -1024, -1024, -1023, -1, 0, 1024, -1022, -1022, -1021]);
  });
});

describe("broken series give their error or recovery", () => {
  test("missing slice -> MISSING_SLICES", async () => {
    const dir = fresh();
    const { files } = writeTestSeries(dir, { nz: 8 });
    rmSync(files[4]);
    await rejectsWith(readSeries(dir), "MISSING_SLICES", (e) => {
      assert.equal(e.context.missing, 1);
      assert.equal(e.context.seriesDir, dir);
    });
  });

  test("duplicate slice with identical pixels is dropped with a warning", async () => {
    const dir = fresh();
    const { hu, files } = writeTestSeries(dir, { nz: 5 });
    copyFileSync(files[2], path.join(dir, "zz-copy.dcm"));
    const { volume, meta } = await readSeries(dir);
    assert.deepEqual([...volume.data], [...hu]);
    const w = meta.warnings.find((x) => x.code === "DUPLICATE_SLICE_DROPPED");
    assert.ok(w, JSON.stringify(meta.warnings));
    assert.equal(meta.fileCount, 5);
  });

  test("duplicate position with different pixels -> DUPLICATE_SLICE_CONFLICT", async () => {
    const dir = fresh();
    writeTestSeries(dir, { nz: 5 });
    writeTestSeries(path.join(dir, "sub"), { nz: 5, seed: 99, name: (z) => `other${z}.dcm` });
    rmFilesExcept(path.join(dir, "sub"), "other2.dcm");
    await rejectsWith(readSeries(dir), "DUPLICATE_SLICE_CONFLICT", (e) =>
      assert.match(String(e.context.file), /other2|img/),
    );
  });

  test("GantryDetectorTilt -> GANTRY_TILT", async () => {
    const dir = fresh();
    writeTestSeries(dir, { slice: () => ({ gantryTilt: 15 }) });
    await rejectsWith(readSeries(dir), "GANTRY_TILT");
  });

  test("sheared stack (tilted orientation, positions along Z) -> GANTRY_TILT", async () => {
    const dir = fresh();
    const t = (15 * Math.PI) / 180;
    writeTestSeries(dir, { slice: () => ({ iop: [1, 0, 0, 0, Math.cos(t), Math.sin(t)] }) });
    await rejectsWith(readSeries(dir), "GANTRY_TILT");
  });

  test("sagittal -> NOT_AXIAL", async () => {
    const dir = fresh();
    writeTestSeries(dir, { slice: (z) => ({ iop: [0, 1, 0, 0, 0, -1], ipp: [z * 1.25, 0, 0] }) });
    await rejectsWith(readSeries(dir), "NOT_AXIAL", (e) =>
      assert.equal(e.context.plane, "sagittal"),
    );
  });

  test("mixed orientation -> MIXED_ORIENTATION", async () => {
    const dir = fresh();
    writeTestSeries(dir, { slice: (z) => (z === 3 ? { iop: [1, 0, 0, 0, 0.98, 0.199] } : {}) });
    await rejectsWith(readSeries(dir), "MIXED_ORIENTATION");
  });

  test("rows differ -> INCONSISTENT_GEOMETRY; pixel spacing differs -> INCONSISTENT_GEOMETRY", async () => {
    const d1 = fresh();
    writeTestSeries(d1, { slice: (z) => (z === 2 ? { rows: 10, columns: 12 } : {}) });
    await rejectsWith(readSeries(d1), "INCONSISTENT_GEOMETRY");
    const d2 = fresh();
    writeTestSeries(d2, { slice: (z) => (z === 2 ? { pixelSpacing: [0.8, 0.65] } : {}) });
    await rejectsWith(readSeries(d2), "INCONSISTENT_GEOMETRY");
  });

  test("non-uniform spacing -> NONUNIFORM_SPACING (tolerance 0.01 mm)", async () => {
    const d1 = fresh();
    writeTestSeries(d1, {
      slice: (z) => ({ ipp: [-30.5, -20.25, 100 + z * 1.25 + (z === 3 ? 0.3 : 0)] }),
    });
    await rejectsWith(readSeries(d1), "NONUNIFORM_SPACING");
    const d2 = fresh();
    writeTestSeries(d2, {
      slice: (z) => ({ ipp: [-30.5, -20.25, 100 + z * 1.25 + (z === 3 ? 0.004 : 0)] }),
    });
    const { volume } = await readSeries(d2);
    assert.equal(volume.shape[0], 6);
  });

  test("truncated file -> TRUNCATED naming the file (explicit and implicit)", async () => {
    for (const syntax of ["explicit", "implicit"] as const) {
      const dir = fresh();
      const { files } = writeTestSeries(dir, { syntax });
      truncateSync(files[2], readFileSync(files[2]).length - 50);
      await rejectsWith(readSeries(dir), "TRUNCATED", (e) =>
        assert.equal(e.context.file, files[2]),
      );
      // Cut inside the header: the file cannot be placed at all, still TRUNCATED naming it.
      truncateSync(files[2], 300);
      await rejectsWith(readSeries(dir), "TRUNCATED", (e) =>
        assert.equal(e.context.file, files[2]),
      );
    }
  });

  test("non-DICOM file is skipped with a warning; only non-DICOM -> NOT_DICOM", async () => {
    const dir = fresh();
    const { hu } = writeTestSeries(dir);
    writeFileSync(path.join(dir, "notes.txt"), "not a dicom file\n".repeat(20));
    const { volume, meta } = await readSeries(dir);
    assert.deepEqual([...volume.data], [...hu]);
    const w = meta.warnings.find((x) => x.code === "SKIPPED_FILES");
    assert.deepEqual(w?.files, [path.join(dir, "notes.txt")]);
    assert.equal(meta.skipped[0].code, "NOT_DICOM");
    const d2 = fresh();
    mkdirSync(d2);
    writeFileSync(path.join(d2, "a.bin"), Buffer.alloc(10));
    await rejectsWith(readSeries(d2), "NOT_DICOM");
  });

  test("localizer mixed in is skipped", async () => {
    const dir = fresh();
    const { hu } = writeTestSeries(dir);
    writeTestSeries(dir, {
      nz: 1,
      name: () => "loc.dcm",
      slice: () => ({ imageType: "ORIGINAL\\PRIMARY\\LOCALIZER", iop: [0, 1, 0, 0, 0, -1] }),
    });
    const { volume, meta } = await readSeries(dir);
    assert.deepEqual([...volume.data], [...hu]);
    assert.equal(meta.skipped[0].code, "LOCALIZER");
  });

  test("second series in the folder: the bigger one is read, the other reported", async () => {
    const dir = fresh();
    const { hu } = writeTestSeries(dir, { nz: 6 });
    writeTestSeries(dir, {
      nz: 3,
      dz: 2.5,
      seriesUid: "1.2.3.4.1.2",
      name: (z) => `thick${z}.dcm`,
      seed: 5,
    });
    const { volume, meta } = await readSeries(dir);
    assert.deepEqual([...volume.data], [...hu]);
    const w = meta.warnings.find((x) => x.code === "OTHER_SERIES");
    assert.match(w!.message, /1\.2\.3\.4\.1\.2.*fewer files/);
  });

  test("overlapping acquisitions: the one with the most slices is kept", async () => {
    const dir = fresh();
    const { hu } = writeTestSeries(dir, { nz: 6, slice: () => ({ acquisitionNumber: 1 }) });
    writeTestSeries(dir, {
      nz: 3,
      seed: 8,
      origin: [-30.5, -20.25, 101.25],
      name: (z) => `acq2-${z}.dcm`,
      slice: () => ({ acquisitionNumber: 2 }),
    });
    const { volume, meta } = await readSeries(dir);
    assert.deepEqual([...volume.data], [...hu]);
    const w = meta.warnings.find((x) => x.code === "OVERLAPPING_ACQUISITIONS");
    assert.equal(w?.files?.length, 3);
    assert.deepEqual(meta.acquisitionNumbers, [1]);
  });

  test("format checks: MR -> NOT_CT, 8 bits -> UNSUPPORTED_PIXEL_FORMAT, RGB -> UNSUPPORTED_PIXEL_FORMAT", async () => {
    const d1 = fresh();
    writeTestSeries(d1, { slice: () => ({ modality: "MR" }) });
    await rejectsWith(readSeries(d1), "NOT_CT");
    const d2 = fresh();
    writeTestSeries(d2, { slice: () => ({ bitsAllocated: 8 }) });
    await rejectsWith(readSeries(d2), "UNSUPPORTED_PIXEL_FORMAT");
    const d3 = fresh();
    writeTestSeries(d3, { slice: () => ({ photometric: "PALETTE COLOR" }) });
    await rejectsWith(readSeries(d3), "UNSUPPORTED_PIXEL_FORMAT");
  });

  test("JPEG baseline (lossy) and MPEG-2 -> UNSUPPORTED_TRANSFER_SYNTAX", async () => {
    for (const uid of ["1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.100"]) {
      const dir = fresh();
      writeTestSeries(dir, { slice: () => ({ transferSyntaxUid: uid }) });
      await rejectsWith(readSeries(dir), "UNSUPPORTED_TRANSFER_SYNTAX", (e) =>
        assert.match(String(e.context.reason), new RegExp(uid.replace(/\./g, "\\."))),
      );
    }
  });

  test("a Modality LUT Sequence instead of rescale -> UNSUPPORTED_PIXEL_FORMAT", async () => {
    const dir = fresh();
    writeTestSeries(dir, {
      slice: () => ({
        noRescale: true,
        extra: [{ tag: 0x00283000, vr: "SQ", value: new Uint8Array(0) }],
      }),
    });
    await rejectsWith(readSeries(dir), "UNSUPPORTED_PIXEL_FORMAT", (e) =>
      assert.match(String(e.context.reason), /Modality LUT/),
    );
  });

  test("ImagePositionPatient with 2 values -> INVALID_VALUE naming it", async () => {
    const dir = fresh();
    writeTestSeries(dir, { slice: (z) => (z === 2 ? { ipp: [1, 2] } : {}) });
    await rejectsWith(readSeries(dir), "INVALID_VALUE", (e) => {
      assert.equal(e.context.tag, "ImagePositionPatient");
      assert.equal(e.context.value, "1\\2");
    });
  });

  test("a single slice -> TOO_FEW_SLICES", async () => {
    const dir = fresh();
    writeTestSeries(dir, { nz: 1 });
    await rejectsWith(readSeries(dir), "TOO_FEW_SLICES");
  });
});

function rmFilesExcept(dir: string, keep: string) {
  // keep only one file of the other series
  for (const f of readdirSync(dir)) if (f !== keep) rmSync(path.join(dir, f));
}

describe("inputs and cancellation", () => {
  test("a list of files reads like the folder; an aborted signal rejects", async () => {
    const dir = fresh();
    const { hu, files } = writeTestSeries(dir, { nz: 5 });
    const { volume } = await readSeries([...files].reverse());
    assert.deepEqual([...volume.data], [...hu]);
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(readSeries(dir, { signal: ac.signal }), { name: "AbortError" });
  });

  test("a header longer than the prefix read is parsed from the whole file", async () => {
    const dir = fresh();
    const { hu } = writeTestSeries(dir, { nz: 3 });
    const { volume } = await readSeries(dir, { headerBytes: 200 });
    assert.deepEqual([...volume.data], [...hu]);
  });
});
