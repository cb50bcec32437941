import assert from "node:assert/strict";
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, test } from "node:test";
import { BROKEN_VARIANTS, type BrokenVariant, makePhantom, writeSeries } from "../src/index.ts";
import { hasPydicom, nums, type ParsedFile, rawPixels, readDir, T, tool } from "./helpers.ts";

const root = mkdtempSync(path.join(tmpdir(), "phantom-variants-"));
after(() => rmSync(root, { recursive: true, force: true }));

const NZ = 20;
const p = makePhantom({ seed: 33, slices: NZ, nodules: 1 });
const [nz, ny, nx] = p.shape;
const [dz, dy, dx] = p.spacing;

async function write(v: BrokenVariant) {
  const dir = path.join(root, v);
  const w = await writeSeries(p, dir, { variant: v, groundTruth: false, padding: false });
  return { w, files: readDir(dir) };
}
const ok = (fs: ParsedFile[]) => fs.filter((f) => f.ds);
const zk = (f: ParsedFile) => Math.round((nums(f.ds!, T.position)[2] - p.origin[2]) / dz);
const str = (f: ParsedFile, tag: string) => f.ds!.string(tag);
/** HU of a parsed file (int16, intercept 0, slope 1 in these tests). */
const hu = (f: ParsedFile) => rawPixels(f) as Int16Array;
const sliceHu = (k: number) => p.hu.subarray(k * ny * nx, (k + 1) * ny * nx);

describe("broken variants are broken exactly as documented", () => {
  test("every variant has a test", () => {
    assert.deepEqual([...BROKEN_VARIANTS].sort(), [
      "duplicate-slice",
      "gantry-tilt",
      "localizer",
      "missing-slice",
      "non-dicom-file",
      "overlapping-acquisitions",
      "sagittal",
      "second-series",
      "truncated-file",
    ]);
  });

  test("overlapping-acquisitions: acquisition 2 re-covers a z range, same series", async () => {
    const { w, files } = await write("overlapping-acquisitions");
    const [a, b] = w.broken.overlap!;
    assert.ok(a > 0 && b > a && b < nz);
    assert.equal(files.length, nz + (b - a));
    assert.equal(new Set(files.map((f) => str(f, T.seriesUid))).size, 1);
    const acq1 = files.filter((f) => str(f, T.acquisitionNumber) === "1");
    const acq2 = files.filter((f) => str(f, T.acquisitionNumber) === "2");
    assert.deepEqual(
      acq1.map(zk).sort((x, y) => x - y),
      Array.from({ length: nz }, (_, i) => i),
    );
    assert.deepEqual(
      acq2.map(zk).sort((x, y) => x - y),
      Array.from({ length: b - a }, (_, i) => a + i),
    );
    for (const f of acq2) assert.deepEqual(hu(f), sliceHu(zk(f)));
    assert.equal(new Set(files.map((f) => str(f, T.instanceNumber))).size, files.length);
    assert.equal(new Set(files.map((f) => str(f, T.sopInstance))).size, files.length);
  });

  test("localizer: one coronal LOCALIZER image mixed into the series", async () => {
    const { files } = await write("localizer");
    assert.equal(files.length, nz + 1);
    const loc = files.filter((f) => str(f, T.imageType)!.includes("LOCALIZER"));
    assert.equal(loc.length, 1);
    const l = loc[0];
    assert.equal(str(l, T.seriesUid), str(files.find((f) => f !== l)!, T.seriesUid));
    assert.deepEqual(nums(l.ds!, T.orientation), [1, 0, 0, 0, 0, -1]);
    assert.equal(l.ds!.uint16(T.rows), nz);
    assert.equal(l.ds!.uint16(T.columns), nx);
    // Row 0 is the top slice: the mean over y of phantom slice nz-1.
    const px = hu(l);
    for (const x of [0, nx >> 1, nx - 1]) {
      let s = 0;
      for (let y = 0; y < ny; y++) s += p.hu[((nz - 1) * ny + y) * nx + x];
      assert.equal(px[x], Math.round(s / ny));
    }
    const axial = files.filter((f) => f !== l);
    assert.deepEqual(
      axial.map(zk).sort((x, y) => x - y),
      Array.from({ length: nz }, (_, i) => i),
    );
  });

  test("second-series: another SeriesInstanceUID with every other slice, double thickness", async () => {
    const { w, files } = await write("second-series");
    const main = files.filter((f) => str(f, T.seriesUid) === w.seriesInstanceUid);
    const other = files.filter((f) => str(f, T.seriesUid) !== w.seriesInstanceUid);
    assert.equal(main.length, nz);
    assert.equal(other.length, Math.ceil(nz / 2));
    assert.equal(new Set(other.map((f) => str(f, T.seriesUid))).size, 1);
    assert.equal(str(other[0], T.studyUid), str(main[0], T.studyUid));
    assert.equal(str(other[0], T.seriesNumber), "3");
    for (const f of other) {
      assert.equal(zk(f) % 2, 0);
      assert.equal(Number(str(f, T.sliceThickness)), 2 * dz);
      assert.deepEqual(hu(f), sliceHu(zk(f)));
    }
  });

  test("missing-slice: one inner slice is absent, leaving a 2 dz gap", async () => {
    const { w, files } = await write("missing-slice");
    const k = w.broken.missingSlice!;
    assert.ok(k > 0 && k < nz - 1);
    assert.equal(files.length, nz - 1);
    const ks = files.map(zk).sort((a, b) => a - b);
    assert.deepEqual(
      ks,
      Array.from({ length: nz }, (_, i) => i).filter((i) => i !== k),
    );
    const zs = files.map((f) => nums(f.ds!, T.position)[2]).sort((a, b) => a - b);
    const gaps = zs.slice(1).map((z, i) => z - zs[i]);
    assert.equal(gaps.filter((g) => Math.abs(g - 2 * dz) < 1e-4).length, 1);
    assert.equal(gaps.filter((g) => Math.abs(g - dz) < 1e-4).length, nz - 3);
  });

  test("duplicate-slice: a byte-identical copy of one slice under another name", async () => {
    const { w, files } = await write("duplicate-slice");
    const k = w.broken.duplicateSlice!;
    assert.equal(files.length, nz + 1);
    const atK = files.filter((f) => zk(f) === k);
    assert.equal(atK.length, 2);
    assert.deepEqual(atK[0].bytes, atK[1].bytes);
    assert.notEqual(atK[0].path, atK[1].path);
    assert.equal(str(atK[0], T.sopInstance), str(atK[1], T.sopInstance));
    assert.equal(new Set(files.map(zk)).size, nz);
  });

  test("truncated-file: one slice file is cut short, the others are whole", async () => {
    const { w, files } = await write("truncated-file");
    const k = w.broken.truncatedSlice!;
    const cut = w.files.filter((f) => f.truncated);
    assert.equal(cut.length, 1);
    assert.equal(cut[0].sliceIndex, k);
    const bad = files.find((f) => f.path === cut[0].path)!;
    const whole = files.find((f) => f !== bad)!;
    assert.ok(bad.bytes.byteLength < 0.7 * whole.bytes.byteLength);
    // dicom-parser either throws or finds Pixel Data running past the end of the file.
    if (bad.ds) {
      const el = bad.ds.elements[T.pixelData];
      assert.ok(!el || el.dataOffset + el.length > bad.bytes.byteLength);
    } else assert.match(bad.error!, /buffer|end|length|overrun/i);
    const good = files.filter((f) => f !== bad);
    assert.equal(good.length, nz - 1);
    for (const f of good) {
      assert.ok(f.ds);
      assert.deepEqual(hu(f), sliceHu(zk(f)));
    }
    const dcmdump = tool("dcmdump");
    if (dcmdump) {
      const r: SpawnSyncReturns<string> = spawnSync(dcmdump, [bad.path], { encoding: "utf8" });
      assert.match(r.stderr, /E: /);
    }
  });

  test("non-dicom-file: a plain text notes.dcm among valid slices", async () => {
    const { files } = await write("non-dicom-file");
    assert.equal(files.length, nz + 1);
    const bad = files.filter((f) => f.error);
    assert.equal(bad.length, 1);
    assert.equal(path.basename(bad[0].path), "notes.dcm");
    assert.notEqual(Buffer.from(bad[0].bytes.subarray(128, 132)).toString("latin1"), "DICM");
    assert.match(readFileSync(bad[0].path, "utf8"), /not DICOM/);
    assert.equal(ok(files).length, nz);
  });

  test("gantry-tilt: tilted orientation, GantryDetectorTilt 15, positions stepping along z", async () => {
    const { w, files } = await write("gantry-tilt");
    assert.equal(w.broken.gantryTiltDeg, 15);
    assert.equal(files.length, nz);
    const t = (15 * Math.PI) / 180;
    for (const f of files) {
      assert.equal(Number(str(f, T.gantryTilt)), 15);
      const o = nums(f.ds!, T.orientation);
      assert.deepEqual(o.slice(0, 4), [1, 0, 0, 0]);
      assert.ok(Math.abs(o[4] - Math.cos(t)) < 1e-5 && Math.abs(o[5] - Math.sin(t)) < 1e-5);
      const pos = nums(f.ds!, T.position);
      assert.ok(Math.abs(pos[0] - p.origin[0]) < 1e-4 && Math.abs(pos[1] - p.origin[1]) < 1e-4);
      // Pixel (r, c) samples the phantom at y = r cos t, z = k dz + r dy sin t (nearest voxel).
      const k = zk(f);
      const px = hu(f);
      for (const r of [0, 10, 40]) {
        const y = Math.round(r * Math.cos(t));
        const z = Math.round((k * dz + r * dy * Math.sin(t)) / dz);
        const row = px.subarray(r * nx, (r + 1) * nx);
        if (z < nz) assert.deepEqual(row, p.hu.subarray((z * ny + y) * nx, (z * ny + y + 1) * nx));
        else assert.ok(row.every((v) => v === -1000));
      }
    }
    // The slice normal is tilted, so spacing along it is dz cos t, not dz.
    const n = [0, -Math.sin(t), Math.cos(t)];
    const d = files
      .map((f) => nums(f.ds!, T.position).reduce((a, v, i) => a + v * n[i], 0))
      .sort((a, b) => a - b);
    assert.ok(Math.abs(d[1] - d[0] - dz * Math.cos(t)) < 1e-4);
  });

  test("sagittal: one sagittal plane per column, exact resliced HU", async () => {
    const { files } = await write("sagittal");
    assert.equal(files.length, nx);
    for (const f of files) {
      assert.deepEqual(nums(f.ds!, T.orientation), [0, 1, 0, 0, 0, -1]);
      assert.equal(f.ds!.uint16(T.rows), nz);
      assert.equal(f.ds!.uint16(T.columns), ny);
      assert.deepEqual(nums(f.ds!, T.pixelSpacing), [dz, dy]);
      const pos = nums(f.ds!, T.position);
      const x = Math.round((pos[0] - p.origin[0]) / dx);
      assert.ok(Math.abs(pos[2] - (p.origin[2] + (nz - 1) * dz)) < 1e-4);
      const px = hu(f);
      for (let r = 0; r < nz; r++) {
        for (let c = 0; c < ny; c++) {
          if (px[r * ny + c] !== p.hu[((nz - 1 - r) * ny + c) * nx + x])
            assert.fail(`sagittal x=${x} r=${r} c=${c}`);
        }
      }
    }
  });

  test("dcmdump and pydicom read every file that is meant to be valid, in every variant", async (t) => {
    const valid: string[] = [];
    for (const v of BROKEN_VARIANTS) {
      const { w } = await write(v);
      for (const f of w.files) if (!f.truncated && f.role !== "non-dicom") valid.push(f.path);
    }
    const dcmdump = tool("dcmdump");
    if (!dcmdump) t.diagnostic("dcmdump (Debian dcmtk) not installed: skipped");
    else {
      const r: SpawnSyncReturns<string> = spawnSync(dcmdump, valid, {
        encoding: "utf8",
        maxBuffer: 1 << 28,
      });
      assert.equal(r.status, 0, r.stderr.slice(0, 2000));
      assert.doesNotMatch(r.stderr, /^[EW]: /m);
    }
    if (!hasPydicom()) return t.skip("Debian /usr/bin/python3 with pydicom not installed");
    const py =
      "import sys, pydicom\nfor p in sys.stdin.read().split('\\n'):\n    d = pydicom.dcmread(p); d.pixel_array\nprint('ok')";
    const r: SpawnSyncReturns<string> = spawnSync("/usr/bin/python3", ["-c", py], {
      input: valid.join("\n"),
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr.slice(0, 2000));
    assert.equal(r.stdout.trim(), "ok");
  });
});
