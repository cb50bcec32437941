import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { makePhantom, writeSeries } from "@lungflow/phantom";
import { makeVolume, mulberry32, type Vec3 } from "@lungflow/volume";
import { readSeries } from "../src/index.ts";
import {
  type Affine,
  affineToQuatern,
  decodeNifti,
  encodeNiftiRaw,
  isNiftiError,
  type NiftiImage,
  niftiAffine,
  niftiToVolume,
  quaternToAffine,
  readNifti,
  writeNifti,
} from "../src/nifti.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lungflow-nifti-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const rng = mulberry32;

const cross = (a: number[], b: number[]): Vec3 => [
  a[1] * b[2] - a[2] * b[1],
  a[2] * b[0] - a[0] * b[2],
  a[0] * b[1] - a[1] * b[0],
];

/** Row and column direction cosines rotated by `a` about Z, then tilted by `b` about the row. */
function orientation(a: number, b: number): { row: Vec3; col: Vec3; normal: Vec3 } {
  const row: Vec3 = [Math.cos(a), Math.sin(a), 0];
  const col: Vec3 = [-Math.sin(a) * Math.cos(b), Math.cos(a) * Math.cos(b), Math.sin(b)];
  return { row, col, normal: cross(row, col) };
}

function invert(A: Affine): Affine {
  const m = A;
  const det =
    m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
    m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
    m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  const c = (r0: number, c0: number, r1: number, c1: number) =>
    m[r0][c0] * m[r1][c1] - m[r0][c1] * m[r1][c0];
  const inv = [
    [c(1, 1, 2, 2), -c(0, 1, 2, 2), c(0, 1, 1, 2)],
    [-c(1, 0, 2, 2), c(0, 0, 2, 2), -c(0, 0, 1, 2)],
    [c(1, 0, 2, 1), -c(0, 0, 2, 1), c(0, 0, 1, 1)],
  ].map((r) => r.map((v) => v / det));
  const t = [0, 1, 2].map(
    (i) => -(inv[i][0] * m[0][3] + inv[i][1] * m[1][3] + inv[i][2] * m[2][3]),
  );
  return [...inv.map((r, i) => [...r, t[i]]), [0, 0, 0, 1]];
}

const apply = (A: Affine, p: number[]) =>
  [0, 1, 2].map((r) => A[r][0] * p[0] + A[r][1] * p[1] + A[r][2] * p[2] + A[r][3]);

function assertAffineClose(a: Affine, b: Affine, tol: number, msg: string) {
  for (let r = 0; r < 4; r++)
    for (let c = 0; c < 4; c++)
      assert.ok(
        Math.abs(a[r][c] - b[r][c]) <= tol,
        `${msg}: [${r}][${c}] ${a[r][c]} vs ${b[r][c]}`,
      );
}

describe("NIfTI-1 writer", () => {
  test("axial LPS geometry becomes the expected RAS affine, qform equal to sform", () => {
    const v = makeVolume(
      new Int16Array(2 * 3 * 4),
      [2, 3, 4],
      [2.5, 0.7, 0.8],
      [-100.5, -80.25, 30],
    );
    const A = niftiAffine(v);
    assert.deepEqual(A, [
      [-0.8, 0, 0, 100.5],
      [0, -0.7, 0, 80.25],
      [0, 0, 2.5, 30],
      [0, 0, 0, 1],
    ]);
    const img = decodeNifti(encodeNiftiRaw(v));
    assert.ok(img.qform && img.sform);
    assertAffineClose(img.qform, A, 1e-5, "qform");
    assertAffineClose(img.sform, A, 1e-5, "sform");
    assert.equal(img.qfac, 1);
  });

  test("round trip .nii and .nii.gz: bytes, header, oblique affine, volume back", async () => {
    const r = rng(3);
    const shape: Vec3 = [5, 7, 9];
    const data = Int16Array.from({ length: 315 }, () => Math.floor(r() * 6000) - 3024);
    for (const [a, b, flipSlices] of [
      [0, 0, false],
      [0.5, 0.2, false],
      [2.1, -0.4, true],
    ] as const) {
      const o = orientation(a, b);
      // flipSlices: a left-handed array frame (slice axis against the normal): qfac = -1
      const z = flipSlices ? (o.normal.map((v) => -v) as Vec3) : o.normal;
      const v = makeVolume(
        data,
        shape,
        [1.25, 0.69, 0.73],
        [12.5, -170.2, -305],
        [z, o.col, o.row],
      );
      for (const name of ["rt.nii", "rt.nii.gz"]) {
        const file = path.join(tmp, name);
        await writeNifti(v, file);
        const bytes = fs.readFileSync(file);
        assert.equal(
          bytes[0] === 0x1f && bytes[1] === 0x8b,
          name.endsWith(".gz"),
          "gzip by extension",
        );
        const img = await readNifti(file);
        assert.deepEqual(img.dim, [9, 7, 5]);
        assert.equal(img.datatype, "int16");
        assert.deepEqual(img.data, data);
        assert.deepEqual(
          img.pixdim.map((p) => Math.fround(p)),
          [0.73, 0.69, 1.25].map(Math.fround),
        );
        assert.equal(img.qfac, flipSlices ? -1 : 1);
        assert.equal(img.qformCode, 1);
        assert.equal(img.sformCode, 1);
        const A = niftiAffine(v);
        assertAffineClose(img.sform!, A, 1e-4, "sform");
        assertAffineClose(img.qform!, A, 1e-4, "qform");
        const back = niftiToVolume(img);
        assert.deepEqual(back.shape, shape);
        const close = (a: number[], b: number[], tol: number) => {
          for (const [i, x] of a.entries()) assert.ok(Math.abs(x - b[i]) < tol, `${a} vs ${b}`);
        };
        close(back.spacing, v.spacing, 1e-5);
        close(back.origin, v.origin, 1e-4);
        close(back.direction.flat(), v.direction.flat(), 1e-5);
      }
    }
    const raw = fs.readFileSync(path.join(tmp, "rt.nii"));
    assert.equal(raw.length, 352 + 315 * 2);
    assert.equal(raw.readInt32LE(0), 348);
    assert.equal(raw.readFloatLE(108), 352);
    assert.equal(raw.toString("latin1", 344, 348), "n+1\0");
    assert.equal(raw.readUInt8(123), 2, "units mm");
    assert.deepEqual(
      fs.readdirSync(tmp).filter((f) => f.includes(".tmp-")),
      [],
      "no temp files left",
    );
  });

  test("quaternion round trip over random rotations, proper and improper", () => {
    const r = rng(9);
    for (let t = 0; t < 200; t++) {
      // random rotation from a random unit quaternion
      const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
      const n = Math.hypot(...q);
      const [a, b, c, d] = q.map((x) => (x / n) * (q[0] < 0 ? -1 : 1));
      const qfac = t % 2 ? -1 : 1;
      const pix: Vec3 = [0.5 + r(), 0.5 + r(), 0.5 + r() * 3];
      const A = quaternToAffine(b, c, d, [r() * 100, -r() * 100, r()], pix, qfac);
      void a;
      const back = affineToQuatern(A);
      assert.equal(back.qfac, qfac);
      const A2 = quaternToAffine(
        back.b,
        back.c,
        back.d,
        [A[0][3], A[1][3], A[2][3]],
        back.pixdim,
        back.qfac,
      );
      assertAffineClose(A2, A, 1e-9, `rotation ${t}`);
    }
  });

  test("typed errors: not NIfTI, truncated, wrong volume type", async () => {
    const junk = path.join(tmp, "junk.nii");
    fs.writeFileSync(junk, Buffer.alloc(400, 7));
    await assert.rejects(
      readNifti(junk),
      (e) => isNiftiError(e) && e.code === "NOT_NIFTI" && e.context.file === junk,
    );
    const v = makeVolume(new Int16Array(8), [2, 2, 2]);
    const cut = path.join(tmp, "cut.nii");
    fs.writeFileSync(cut, encodeNiftiRaw(v).subarray(0, 360));
    await assert.rejects(readNifti(cut), (e) => isNiftiError(e) && e.code === "TRUNCATED");
    assert.throws(
      () => encodeNiftiRaw(makeVolume(new Float32Array(8), [2, 2, 2]) as never),
      (e) => isNiftiError(e) && e.code === "BAD_VOLUME",
    );
    await assert.rejects(
      writeNifti(v, path.join(tmp, "no", "such", "dir.nii")),
      (e) => isNiftiError(e) && e.code === "WRITE_FAILED",
    );
  });
});

// ---------------------------------------------------------------------------------------
// dcm2niix comparison: a tiny CT series written by Debian pydicom, converted by dcm2niix
// and compared in world space with what writeNifti makes of the same numbers.

const PY = "/usr/bin/python3";
const which = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
const hasPydicom = fs.existsSync(PY) && spawnSync(PY, ["-c", "import pydicom, numpy"]).status === 0;
const dcmSkip = !hasPydicom
  ? "Debian python3 with pydicom (/usr/bin/python3) is not available"
  : !which("dcm2niix")
    ? "dcm2niix is not installed (apt-get install dcm2niix)"
    : false;

const WRITE_SERIES = `
import json, sys
import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
spec = json.load(open(sys.argv[1]))
study, series = generate_uid(), generate_uid()
for s in spec["slices"]:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(s["file"], {}, file_meta=meta, preamble=b"\\0" * 128)
    ds.is_little_endian = True
    ds.is_implicit_VR = False
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.PatientID = "NIFTI-TEST"
    ds.PatientName = "Anonymous"
    ds.StudyInstanceUID = study
    ds.SeriesInstanceUID = series
    ds.StudyDate = "20260101"
    ds.SeriesNumber = 1
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = s["instance"]
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [repr(float(v)) for v in s["position"]]
    ds.ImageOrientationPatient = [repr(float(v)) for v in spec["iop"]]
    ds.PixelSpacing = [repr(float(v)) for v in spec["pixelSpacing"]]
    ds.SliceThickness = repr(float(spec["sliceSpacing"]))
    ds.Rows, ds.Columns = spec["rows"], spec["cols"]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1
    ds.RescaleSlope = repr(float(spec["slope"]))
    ds.RescaleIntercept = repr(float(spec["intercept"]))
    ds.RescaleType = "HU"
    ds.PixelData = np.array(s["stored"], dtype="<i2").tobytes()
    ds.save_as(s["file"], write_like_original=False)
`;

interface SeriesCase {
  name: string;
  rows: number;
  cols: number;
  slices: number;
  pixelSpacing: [number, number];
  sliceSpacing: number;
  orient: [number, number];
  origin: Vec3;
  /** instance numbers run against the position order */
  reverseInstances: boolean;
}

const cases: SeriesCase[] = [
  {
    name: "axial",
    rows: 5,
    cols: 6,
    slices: 4,
    pixelSpacing: [0.7, 0.8],
    sliceSpacing: 2.5,
    orient: [0, 0],
    origin: [-100.5, -80.25, 30],
    reverseInstances: false,
  },
  {
    name: "axial, instances reversed (head-first slice order)",
    rows: 6,
    cols: 5,
    slices: 5,
    pixelSpacing: [0.75, 0.75],
    sliceSpacing: 1.25,
    orient: [0, 0],
    origin: [-150, -170, -300.5],
    reverseInstances: true,
  },
  {
    name: "oblique (rotated 25 deg about Z, tilted 10 deg)",
    rows: 5,
    cols: 7,
    slices: 3,
    pixelSpacing: [0.9, 0.6],
    sliceSpacing: 2,
    orient: [(25 * Math.PI) / 180, (10 * Math.PI) / 180],
    origin: [20, -30, 40],
    reverseInstances: false,
  },
];

/**
 * Every voxel of `ours` must land on a voxel of `theirs` (through their sform and, separately,
 * their qform) and hold the same value (theirs scaled by scl_slope/scl_inter); `allow`
 * accepts known, documented differences. Returns the number of allowed differences.
 */
function assertSameWorld(
  theirs: NiftiImage,
  ours: NiftiImage,
  allow: (ourValue: number, theirValue: number) => boolean = () => false,
): number {
  assert.equal(theirs.data.length, ours.data.length, "voxel count");
  let allowed = 0;
  for (const [label, A] of [
    ["sform", theirs.sform],
    ["qform", theirs.qform],
  ] as const) {
    assert.ok(A, `dcm2niix wrote no ${label}`);
    const inv = invert(A);
    const [ni, nj] = theirs.dim;
    const [nx, ny, nz] = ours.dim;
    let k = 0;
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++, k++) {
          const idx = apply(inv, apply(ours.sform!, [x, y, z]));
          const ri = idx.map(Math.round);
          for (let a = 0; a < 3; a++) {
            if (Math.abs(idx[a] - ri[a]) >= 1e-3 || ri[a] < 0 || ri[a] >= theirs.dim[a]) {
              assert.fail(`${label}: our voxel ${[x, y, z]} is not on dcm2niix's grid: ${idx}`);
            }
          }
          const tv =
            theirs.data[(ri[2] * nj + ri[1]) * ni + ri[0]] * (theirs.sclSlope || 1) +
            theirs.sclInter;
          if (tv !== ours.data[k]) {
            if (!allow(ours.data[k], tv))
              assert.fail(`${label}: HU at ${[x, y, z]}: ours ${ours.data[k]}, dcm2niix ${tv}`);
            if (label === "sform") allowed++;
          }
        }
  }
  return allowed;
}

describe("NIfTI matches dcm2niix", { skip: dcmSkip }, () => {
  for (const [ci, c] of cases.entries()) {
    test(`${c.name}: every voxel has the same world position and HU`, () => {
      const dir = fs.mkdtempSync(path.join(tmp, "dcm-"));
      const inDir = path.join(dir, "in");
      const outDir = path.join(dir, "out");
      fs.mkdirSync(inDir);
      fs.mkdirSync(outDir);
      const r = rng(100 + ci);
      const { row, col, normal } = orientation(...c.orient);
      const slope = 1;
      const intercept = -1024;
      const n = c.rows * c.cols;
      // slices in position order (k along the normal)
      const stored = Array.from({ length: c.slices }, () =>
        Array.from({ length: n }, () => Math.floor(r() * 3000)),
      );
      const position = (k: number) =>
        [0, 1, 2].map((a) => c.origin[a] + k * c.sliceSpacing * normal[a]);
      const spec = {
        rows: c.rows,
        cols: c.cols,
        iop: [...row, ...col],
        pixelSpacing: c.pixelSpacing,
        sliceSpacing: c.sliceSpacing,
        slope,
        intercept,
        slices: stored.map((s, k) => ({
          file: path.join(inDir, `f${(k * 7) % c.slices}.dcm`), // file names do not follow the order
          instance: c.reverseInstances ? c.slices - k : k + 1,
          position: position(k),
          stored: s,
        })),
      };
      fs.writeFileSync(path.join(dir, "spec.json"), JSON.stringify(spec));
      fs.writeFileSync(path.join(dir, "write.py"), WRITE_SERIES);
      const py = spawnSync(PY, [path.join(dir, "write.py"), path.join(dir, "spec.json")], {
        encoding: "utf8",
      });
      assert.equal(py.status, 0, py.stderr);
      const conv = spawnSync("dcm2niix", ["-z", "n", "-f", "out", "-o", outDir, inDir], {
        encoding: "utf8",
      });
      assert.equal(conv.status, 0, conv.stdout + conv.stderr);
      const theirs = decodeNifti(fs.readFileSync(path.join(outDir, "out.nii")), "dcm2niix out.nii");

      // ours: the Volume a DICOM reader builds from the same numbers
      const hu = Int16Array.from(stored.flat(), (s) => s * slope + intercept);
      const vol = makeVolume(
        hu,
        [c.slices, c.rows, c.cols],
        [c.sliceSpacing, c.pixelSpacing[0], c.pixelSpacing[1]],
        position(0) as Vec3,
        [normal, col, row],
      );
      const file = path.join(outDir, "ours.nii");
      fs.writeFileSync(file, encodeNiftiRaw(vol));
      const ours = decodeNifti(fs.readFileSync(file));

      assertSameWorld(theirs, ours);
      // What dcm2niix does differently, for the README: axis signs of its array vs ours.
      const s = theirs.sform!;
      const o = ours.sform!;
      const signs = [0, 1, 2].map((j) =>
        Math.sign(s[0][j] * o[0][j] + s[1][j] * o[1][j] + s[2][j] * o[2][j]),
      );
      console.log(
        `# ${c.name}: dcm2niix datatype ${theirs.datatype}, scl ${theirs.sclSlope}/${theirs.sclInter}, ` +
          `axis agreement with ours (i,j,k) = ${signs.join(",")}, qfac ${theirs.qfac} vs ${ours.qfac}`,
      );
    });
  }

  // The check: a phantom series read by readSeries and written by writeNifti, against
  // dcm2niix on the same files. Our HU rule maps PixelPaddingValue to -1000 (dcm2niix keeps
  // the raw padding value), so those voxels, and only those, may differ.
  for (const enc of [
    { pixels: "int16", padding: false },
    { pixels: "uint16", padding: true },
  ] as const) {
    test(`phantom (${enc.pixels}${enc.padding ? ", padding" : ""}) via readSeries + writeNifti`, async () => {
      const dir = fs.mkdtempSync(path.join(tmp, "phantom-"));
      const p = makePhantom({ seed: 11, slices: 16, matrix: 64 });
      const w = await writeSeries(p, path.join(dir, "in"), { ...enc, groundTruth: false });
      const { volume } = await readSeries(path.join(dir, "in"));
      const ourFile = path.join(dir, "ours.nii.gz");
      await writeNifti(volume, ourFile);
      const conv = spawnSync(
        "dcm2niix",
        ["-z", "n", "-f", "out", "-o", dir, path.join(dir, "in")],
        {
          encoding: "utf8",
        },
      );
      assert.equal(conv.status, 0, conv.stdout + conv.stderr);
      const theirs = decodeNifti(fs.readFileSync(path.join(dir, "out.nii")));
      const ours = await readNifti(ourFile);
      const padHu =
        w.pixelPaddingValue === null
          ? undefined
          : w.pixelPaddingValue + (enc.pixels === "uint16" ? -1024 : 0);
      const allowed = assertSameWorld(theirs, ours, (o, t) => o === -1000 && t === padHu);
      if (enc.padding) assert.ok(allowed > 0, "the padded corners differ as documented");
      else assert.equal(allowed, 0);
    });
  }
});
