import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { encodeCtFile, type SeriesHeader, type SliceHeader } from "../src/dicom-file.ts";
import { fovMask, pixelCoding } from "../src/encoding.ts";
import {
  makePhantom,
  type Phantom,
  readGroundTruth,
  TRANSFER_SYNTAX,
  writeSeries,
} from "../src/index.ts";
import {
  hasPydicom,
  nums,
  type ParsedFile,
  paddingValue,
  rawPixels,
  readDir,
  T,
  tool,
} from "./helpers.ts";

const root = mkdtempSync(path.join(tmpdir(), "phantom-dicom-"));
after(() => rmSync(root, { recursive: true, force: true }));

const NZ = 20;
const odd = makePhantom({ seed: 21, slices: NZ, nodules: 2 });
const even = makePhantom({ seed: 21, slices: NZ, nodules: 2, huStep: 2 });

/** Checks geometry and exact HU of a clean axial series against its phantom. */
function checkSeries(
  files: ParsedFile[],
  p: Phantom,
  enc: { ts: string; unsigned: boolean; slope: number; padding: boolean },
) {
  const [nz, ny, nx] = p.shape;
  assert.equal(files.length, nz);
  const fov = fovMask(ny, nx, p.fovRadiusPx);
  const seen = new Set<number>();
  const study = new Set<string>();
  const series = new Set<string>();
  const frame = new Set<string>();
  for (const f of files) {
    assert.equal(f.error, undefined, `${f.path}: ${f.error}`);
    const ds = f.ds!;
    assert.deepEqual(ds.warnings, []);
    assert.equal(ds.string(T.transferSyntax), enc.ts);
    // Implicit VR files carry no VR in the data set; dicom-parser leaves vr undefined.
    assert.equal(ds.elements[T.rows].vr, enc.ts === TRANSFER_SYNTAX.implicit ? undefined : "US");
    assert.equal(ds.string(T.modality), "CT");
    assert.equal(ds.string(T.sopClass), "1.2.840.10008.5.1.4.1.1.2");
    assert.equal(ds.string(T.imageType), "ORIGINAL\\PRIMARY\\AXIAL");
    assert.equal(ds.string(T.patientId), p.patientId);
    assert.equal(ds.uint16(T.rows), ny);
    assert.equal(ds.uint16(T.columns), nx);
    assert.equal(ds.uint16(T.samplesPerPixel), 1);
    assert.equal(ds.string(T.photometric), "MONOCHROME2");
    assert.equal(ds.uint16(T.bitsAllocated), 16);
    assert.equal(ds.uint16(T.bitsStored), 16);
    assert.equal(ds.uint16(T.highBit), 15);
    assert.equal(ds.uint16(T.pixelRepresentation), enc.unsigned ? 0 : 1);
    assert.equal(Number(ds.string(T.intercept)), enc.unsigned ? -1024 : 0);
    assert.equal(Number(ds.string(T.slope)), enc.slope);
    assert.equal(Number(ds.string(T.kvp)), 120);
    assert.equal(Number(ds.string(T.sliceThickness)), p.spacing[0]);
    assert.equal(ds.string(T.acquisitionNumber), "1");
    assert.deepEqual(nums(ds, T.orientation), [1, 0, 0, 0, 1, 0]);
    assert.deepEqual(nums(ds, T.pixelSpacing), [p.spacing[1], p.spacing[2]]);
    study.add(ds.string(T.studyUid)!);
    series.add(ds.string(T.seriesUid)!);
    frame.add(ds.string(T.frameOfReference)!);
    const pos = nums(ds, T.position);
    const k = Math.round((pos[2] - p.origin[2]) / p.spacing[0]);
    assert.ok(Math.abs(pos[2] - (p.origin[2] + k * p.spacing[0])) < 1e-4);
    assert.ok(Math.abs(pos[0] - p.origin[0]) < 1e-4 && Math.abs(pos[1] - p.origin[1]) < 1e-4);
    assert.ok(!seen.has(k) && k >= 0 && k < nz, `slice ${k} twice or out of range`);
    seen.add(k);
    const pad = paddingValue(ds);
    assert.equal(pad, enc.padding ? (enc.unsigned ? 65535 : -2000) : undefined);
    const raw = rawPixels(f);
    const intercept = enc.unsigned ? -1024 : 0;
    const hu = p.hu.subarray(k * ny * nx, (k + 1) * ny * nx);
    let padded = 0;
    for (let i = 0; i < raw.length; i++) {
      if (pad !== undefined && raw[i] === pad) {
        padded++;
        assert.equal(fov[i], 0, `padding inside the FOV at ${i}`);
        assert.equal(hu[i], -1000);
      } else if (raw[i] * enc.slope + intercept !== hu[i]) {
        assert.fail(
          `${f.path} slice ${k} voxel ${i}: raw ${raw[i]} -> ${raw[i] * enc.slope + intercept}, expected ${hu[i]}`,
        );
      }
    }
    const outside = fov.length - fov.reduce((a, b) => a + b, 0);
    assert.equal(padded, enc.padding ? outside : 0);
    assert.ok(outside > 0);
  }
  assert.equal(seen.size, nz);
  assert.equal(study.size, 1);
  assert.equal(series.size, 1);
  assert.equal(frame.size, 1);
}

describe("encodings read back exactly with dicom-parser", () => {
  for (const ts of ["explicit", "implicit"] as const) {
    for (const pixels of ["int16", "uint16"] as const) {
      for (const slope of [1, 2] as const) {
        for (const padding of [true, false]) {
          const name = `${ts}-${pixels}-slope${slope}-${padding ? "pad" : "nopad"}`;
          test(name, async () => {
            const p = slope === 2 ? even : odd;
            const dir = path.join(root, name);
            const w = await writeSeries(p, dir, {
              transferSyntax: ts,
              pixels,
              rescaleSlope: slope,
              padding,
            });
            assert.equal(w.transferSyntaxUid, TRANSFER_SYNTAX[ts]);
            const files = readDir(dir);
            checkSeries(files, p, {
              ts: TRANSFER_SYNTAX[ts],
              unsigned: pixels === "uint16",
              slope,
              padding,
            });
            assert.equal(w.files.length, NZ);
            assert.equal(
              w.bytes,
              files.reduce((a, f) => a + f.bytes.byteLength, 0),
            );
          });
        }
      }
    }
  }

  test("slope 2 refuses odd HU with a clear error", async () => {
    await assert.rejects(
      writeSeries(odd, path.join(root, "odd"), { rescaleSlope: 2 }),
      /huStep: 2/,
    );
  });
});

describe("file names and instance numbers", () => {
  const zOf = (f: ParsedFile) => nums(f.ds!, T.position)[2];
  const inst = (f: ParsedFile) => Number(f.ds!.string(T.instanceNumber));
  test("default: SOP UID names, InstanceNumber 1 = most superior slice", async () => {
    const dir = path.join(root, "names-default");
    const w = await writeSeries(odd, dir, { groundTruth: false });
    const files = readDir(dir);
    for (const f of files)
      assert.equal(path.basename(f.path), `${f.ds!.string(T.sopInstance)}.dcm`);
    const byInst = [...files].sort((a, b) => inst(a) - inst(b));
    assert.deepEqual(
      byInst.map(inst),
      Array.from({ length: NZ }, (_, i) => i + 1),
    );
    for (let i = 1; i < NZ; i++) assert.ok(zOf(byInst[i]) < zOf(byInst[i - 1]));
    // Name order is not spatial order.
    const zs = files.map(zOf);
    assert.notDeepEqual(
      zs,
      [...zs].sort((a, b) => a - b),
    );
    assert.notDeepEqual(
      zs,
      [...zs].sort((a, b) => b - a),
    );
    assert.equal(w.files.length, NZ);
  });
  test("instance names + spatial order; shuffled names + shuffled instances", async () => {
    const a = path.join(root, "names-instance");
    await writeSeries(odd, a, {
      fileNames: "instance",
      instanceOrder: "spatial",
      groundTruth: false,
    });
    const fa = readDir(a);
    assert.deepEqual(
      fa.map((f) => path.basename(f.path)),
      Array.from({ length: NZ }, (_, i) => `IM${String(i + 1).padStart(5, "0")}.dcm`),
    );
    for (let i = 1; i < NZ; i++) assert.ok(zOf(fa[i]) > zOf(fa[i - 1]));
    const b = path.join(root, "names-shuffled");
    await writeSeries(odd, b, {
      fileNames: "shuffled",
      instanceOrder: "shuffled",
      groundTruth: false,
    });
    const fb = readDir(b);
    for (const f of fb) assert.match(path.basename(f.path), /^[0-9a-f]{8}\.dcm$/);
    const byInst = [...fb].sort((x, y) => inst(x) - inst(y));
    assert.deepEqual(
      byInst.map(inst),
      Array.from({ length: NZ }, (_, i) => i + 1),
    );
    const zs = byInst.map(zOf);
    assert.notDeepEqual(
      zs,
      [...zs].sort((x, y) => x - y),
    );
    assert.notDeepEqual(
      zs,
      [...zs].sort((x, y) => y - x),
    );
    const zn = fb.map(zOf);
    assert.notDeepEqual(
      zn,
      [...zn].sort((x, y) => x - y),
    );
  });
});

test("Pixel Data appended by hand is byte-identical to dcmjs writing it", () => {
  for (const ts of Object.values(TRANSFER_SYNTAX)) {
    for (const pixels of ["int16", "uint16"] as const) {
      const coding = pixelCoding({ pixels });
      const head: SeriesHeader = {
        patientId: "p",
        studyUid: "1.2.3",
        seriesUid: "1.2.3.4",
        frameOfReferenceUid: "1.2.3.5",
        seriesNumber: 2,
        seriesDescription: "x",
        date: "20170101",
        time: "101010",
        transferSyntaxUid: ts,
        coding,
        sliceThickness: 1.25,
        gantryTiltDeg: 0,
        reconstructionDiameter: 100,
        bodyPart: "CHEST",
      };
      const px =
        pixels === "int16"
          ? new Int16Array(64).map((_, i) => i * 37 - 1000)
          : new Uint16Array(64).map((_, i) => i * 37);
      const slice: SliceHeader = {
        sopUid: "1.2.3.6",
        instanceNumber: 1,
        acquisitionNumber: 1,
        imageType: ["ORIGINAL", "PRIMARY", "AXIAL"],
        rows: 8,
        columns: 8,
        pixelSpacing: [0.7, 0.7],
        position: [-1.5, 2, -3.25],
        orientation: [1, 0, 0, 0, 1, 0],
        sliceLocation: -3.25,
        pixels: px,
      };
      assert.deepEqual(
        Buffer.from(encodeCtFile(head, slice)),
        Buffer.from(encodeCtFile(head, slice, true)),
      );
    }
  }
});

describe("determinism and ground truth", () => {
  test("same seed -> byte-identical files; another seed -> different files and UIDs", async () => {
    const list = (d: string) =>
      readdirSync(d)
        .filter((n) => n.endsWith(".dcm"))
        .sort();
    const opts = {
      fileNames: "shuffled",
      instanceOrder: "shuffled",
      variant: "localizer",
    } as const;
    const a = path.join(root, "det-a");
    const b = path.join(root, "det-b");
    const c = path.join(root, "det-c");
    const wa = await writeSeries(makePhantom({ seed: 5, slices: NZ, nodules: 2 }), a, opts);
    const wb = await writeSeries(makePhantom({ seed: 5, slices: NZ, nodules: 2 }), b, opts);
    const wc = await writeSeries(makePhantom({ seed: 6, slices: NZ, nodules: 2 }), c, opts);
    assert.deepEqual(list(a), list(b));
    for (const n of list(a))
      assert.deepEqual(readFileSync(path.join(a, n)), readFileSync(path.join(b, n)));
    for (const n of ["truth.json", "hu.raw", "lung_mask.raw", "airway_mask.raw"]) {
      assert.deepEqual(
        readFileSync(path.join(a, "ground_truth", n)),
        readFileSync(path.join(b, "ground_truth", n)),
      );
    }
    assert.equal(wa.seriesInstanceUid, wb.seriesInstanceUid);
    assert.notEqual(wa.seriesInstanceUid, wc.seriesInstanceUid);
    assert.notEqual(wa.studyInstanceUid, wc.studyInstanceUid);
    assert.notDeepEqual(list(a), list(c));
    for (const u of [wa.studyInstanceUid, wa.seriesInstanceUid, wa.frameOfReferenceUid]) {
      assert.match(u, /^2\.25\.[1-9][0-9]{0,38}$/);
      assert.ok(u.length <= 64);
    }
  });

  test("ground truth beside the series reads back equal to the phantom", async () => {
    const dir = path.join(root, "gt");
    const w = await writeSeries(odd, dir);
    const gt = await readGroundTruth(w.groundTruthDir!);
    assert.equal(gt.patientId, odd.patientId);
    assert.deepEqual(gt.shape, odd.shape);
    assert.deepEqual(gt.spacing, odd.spacing);
    assert.deepEqual(gt.origin, odd.origin);
    assert.deepEqual(gt.nodules, odd.nodules);
    assert.equal(gt.label, odd.label);
    assert.deepEqual(gt.hu, odd.hu);
    assert.deepEqual(gt.lungMask, odd.lungMask);
    assert.deepEqual(gt.airwayMask, odd.airwayMask);
    assert.equal(gt.series?.seriesInstanceUid, w.seriesInstanceUid);
  });
});

describe("reference tools read the files", () => {
  const dirs = [
    "explicit-int16-slope1-pad",
    "implicit-uint16-slope2-pad",
    "implicit-int16-slope1-nopad",
    "explicit-uint16-slope2-nopad",
  ];
  test("dcmdump (dcmtk) parses every file without error", (t) => {
    const dcmdump = tool("dcmdump");
    if (!dcmdump) return t.skip("dcmdump (Debian dcmtk) not installed");
    for (const d of dirs) {
      const files = readdirSync(path.join(root, d)).filter((n) => n.endsWith(".dcm"));
      const r: SpawnSyncReturns<string> = spawnSync(
        dcmdump,
        [...files.map((f) => path.join(root, d, f))],
        { encoding: "utf8", maxBuffer: 1 << 26 },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stderr + r.stdout, /^E: /m);
      assert.doesNotMatch(r.stderr, /^W: /m);
    }
  });
  test("pydicom reads every file and gives exactly the ground-truth HU", (t) => {
    if (!hasPydicom()) return t.skip("Debian /usr/bin/python3 with pydicom + numpy not installed");
    const script = path.join(import.meta.dirname, "pydicom_check.py");
    const r: SpawnSyncReturns<string> = spawnSync(
      "/usr/bin/python3",
      [script, ...dirs.map((d) => path.join(root, d))],
      { encoding: "utf8" },
    );
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, dirs.length);
    for (const l of lines) {
      assert.equal(l.files, NZ, l.dir);
      assert.deepEqual(l.shape, [NZ, 96, 96]);
      assert.equal(l.max_abs_diff, 0, l.dir);
      assert.ok(Math.abs(l.z_spacing[0] - 1.25) < 1e-4 && Math.abs(l.z_spacing[1] - 1.25) < 1e-4);
    }
  });
});
