import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import {
  CANCER_DIAMETER_MM,
  makePhantom,
  type Phantom,
  phantomGeometry,
  REALISTIC_PRESET,
  writeCohort,
} from "../src/index.ts";

const SEEDS = Array.from({ length: 40 }, (_, i) => i + 1);
const hash = (p: Phantom) =>
  createHash("sha256")
    .update(new Uint8Array(p.hu.buffer))
    .update(p.lungMask)
    .update(p.airwayMask)
    .update(JSON.stringify([p.nodules, p.shape, p.spacing, p.origin]))
    .digest("hex");

/** First and last slice holding lung, and the lung's in-plane box, of a phantom. */
function lungExtent(p: Phantom) {
  const [nz, ny, nx] = p.shape;
  let z0 = nz;
  let z1 = -1;
  let x0 = nx;
  let x1 = -1;
  let y0 = ny;
  let y1 = -1;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        if (!p.lungMask[(z * ny + y) * nx + x]) continue;
        z0 = Math.min(z0, z);
        z1 = Math.max(z1, z);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
      }
    }
  }
  return { z0, z1, y0, y1, x0, x1 };
}

test("realistic geometry: field of view 340-400 mm, slices 1-2.5 mm over the whole lung height, all varying", () => {
  const fovs = new Set<number>();
  const dzs = new Set<number>();
  const heights: number[] = [];
  const shifts: number[] = [];
  for (const seed of SEEDS) {
    for (const matrix of [512, 128]) {
      const g = phantomGeometry({
        seed,
        preset: "realistic",
        matrix: matrix === 512 ? undefined : matrix,
      });
      const [nz, n] = g.shape;
      const [dz, dy, dx] = g.spacing;
      assert.equal(n, matrix);
      assert.equal(dx, dy);
      assert.ok(g.fovMm >= 340 && g.fovMm <= 400, `seed ${seed}: field of view ${g.fovMm}`);
      assert.ok(Math.abs(dx - g.fovMm / matrix) < 1e-9);
      assert.equal(dx, Math.round(dx * 1e4) / 1e4, "pixel spacing has 4 decimals (exact in DICOM)");
      assert.ok((REALISTIC_PRESET.sliceSpacingsMm as readonly number[]).includes(dz), `dz ${dz}`);
      const f = g.frame;
      assert.ok(f);
      const zTop = (nz - 1) * dz;
      const h = f.lungZ1 - f.lungZ0;
      assert.ok(h >= 200 && h <= 280, `lung height ${h}`);
      assert.ok(f.lungZ0 >= 30 && zTop - f.lungZ1 >= 15, `margins ${f.lungZ0}, ${zTop - f.lungZ1}`);
      assert.ok(zTop - h <= 60 + 35 + dz, `scan ${zTop} mm for ${h} mm of lung`);
      assert.ok(0.88 * f.scale >= 270 && 0.88 * f.scale <= 360, `body ${0.88 * f.scale}`);
      if (matrix === 512) {
        fovs.add(Math.round(g.fovMm));
        dzs.add(dz);
        heights.push(h);
        shifts.push(f.shiftX);
      }
    }
  }
  assert.ok(fovs.size > 20, `${fovs.size} distinct fields of view`);
  assert.equal(dzs.size, 5);
  assert.ok(Math.max(...heights) - Math.min(...heights) > 50);
  assert.ok(Math.min(...shifts) < -10 && Math.max(...shifts) > 10, "body moves left and right");
});

test("realistic geometry: explicit options override their draw only; too small a field of view is refused", () => {
  const g = phantomGeometry({ seed: 3, preset: "realistic" });
  const dz = phantomGeometry({ seed: 3, preset: "realistic", sliceSpacing: 2 });
  assert.equal(dz.spacing[0], 2);
  assert.equal(dz.fovMm, g.fovMm);
  assert.deepEqual(dz.frame?.scale, g.frame?.scale);
  assert.ok(Math.abs((dz.shape[0] - 1) * 2 - (g.shape[0] - 1) * g.spacing[0]) <= 2);
  const ps = phantomGeometry({ seed: 3, preset: "realistic", matrix: 256, pixelSpacing: 1.5 });
  assert.deepEqual(ps.spacing.slice(1), [1.5, 1.5]);
  assert.equal(ps.fovMm, 384);
  // Fewer slices than the chest needs: a shorter chest, still inside the scan.
  const short = phantomGeometry({ seed: 3, preset: "realistic", slices: 60, sliceSpacing: 2.5 });
  assert.equal(short.shape[0], 60);
  assert.ok(short.frame && short.frame.lungZ0 > 0 && short.frame.lungZ1 < 59 * 2.5);
  assert.throws(
    () => makePhantom({ seed: 1, preset: "realistic", matrix: 96, pixelSpacing: 0.7 }),
    /realistic preset's adult chest needs a field of view .* at least 300 mm, got 67\.2 mm/,
  );
  assert.throws(
    () => makePhantom({ seed: 1, preset: "huge" as "mini" }),
    /preset must be "mini" or "realistic"/,
  );
  // mini is the library default.
  assert.deepEqual(phantomGeometry({ seed: 1 }).shape, [48, 96, 96]);
  assert.deepEqual(makePhantom({ seed: 1 }).shape, [48, 96, 96]);
});

test("realistic phantom (128 matrix): adult chest, lungs inside the scan with margins, deterministic", () => {
  const sizes: number[] = [];
  for (const seed of [1, 2]) {
    const p = makePhantom({ seed, preset: "realistic", matrix: 128, nodules: 2 });
    const g = phantomGeometry({ seed, preset: "realistic", matrix: 128 });
    assert.deepEqual(p.shape, g.shape);
    assert.deepEqual(p.spacing, g.spacing);
    const [nz, ny, nx] = p.shape;
    const [dz, dy] = p.spacing;
    const e = lungExtent(p);
    const h = (e.z1 - e.z0) * dz;
    assert.ok(h >= 200 - 2 * dz && h <= 280, `seed ${seed}: lungs ${h} mm high`);
    assert.ok(
      e.z0 * dz >= 30 - dz && (nz - 1 - e.z1) * dz >= 15 - dz,
      `lungs at ${e.z0}..${e.z1} of ${nz}`,
    );
    // Adult lungs, well inside the image in-plane.
    const w = (e.x1 - e.x0 + 1) * dy;
    const ap = (e.y1 - e.y0 + 1) * dy;
    assert.ok(w >= 200 && w <= 320 && ap >= 100 && ap <= 200, `lungs ${w} x ${ap} mm`);
    assert.ok(e.x0 > 5 && e.x1 < nx - 6 && e.y0 > 5 && e.y1 < ny - 6);
    // Lung HU and nothing but air outside the circular field of view.
    let s = 0;
    let c = 0;
    for (let i = 0; i < p.hu.length; i++) {
      if (p.lungMask[i]) {
        s += p.hu[i];
        c++;
      }
    }
    assert.ok(Math.abs(s / c + 850) < 30, `lung mean ${s / c}`);
    sizes.push(w);
    assert.equal(
      hash(makePhantom({ seed, preset: "realistic", matrix: 128, nodules: 2 })),
      hash(p),
    );
  }
  assert.notEqual(sizes[0], sizes[1]);
});

test("realistic nodules: 3-30 mm, juxtapleural ones, the label rule with 12 / 8 mm margins", () => {
  const all: number[] = [];
  let juxta = 0;
  for (let seed = 1; seed <= 12; seed++) {
    const cancer = seed % 2 === 0;
    const p = makePhantom({
      seed,
      preset: "realistic",
      matrix: 96,
      sliceSpacing: 2.5,
      nodules: 3,
      cancer,
      cancerMinMm: 12,
      benignMaxMm: 8,
      vessels: false,
    });
    const d = p.nodules.map((n) => n.diameterMm);
    assert.equal(p.label, cancer ? 1 : 0);
    assert.equal(p.label, d.some((x) => x >= CANCER_DIAMETER_MM) ? 1 : 0);
    if (cancer) assert.ok(Math.max(...d) >= 12 && d.filter((x) => x > 8).length === 1, `${d}`);
    else
      assert.ok(
        d.every((x) => x <= 8),
        `${d}`,
      );
    for (const n of p.nodules) {
      // (a 3.8 x 3.8 x 2.5 mm voxel may hold no centre of a small, clipped sphere)
      if (n.diameterMm >= 10) assert.ok(n.voxels > 0, `nodule ${n.diameterMm} mm painted`);
      all.push(n.diameterMm);
      if (n.juxtapleural) juxta++;
    }
  }
  assert.ok(Math.min(...all) >= 3 && Math.max(...all) <= 30);
  assert.ok(Math.max(...all) >= 20, `largest ${Math.max(...all)}`);
  assert.ok(juxta >= 3, `${juxta} juxtapleural`);
  // A 30 mm nodule fits whole inside a realistic lung.
  const p = makePhantom({
    seed: 4,
    preset: "realistic",
    matrix: 128,
    nodules: [{ diameterMm: 30 }],
    vessels: false,
  });
  const whole = ((Math.PI / 6) * 30 ** 3) / (p.spacing[0] * p.spacing[1] * p.spacing[2]);
  assert.equal(p.label, 1);
  assert.equal(p.nodules[0].juxtapleural, false);
  assert.ok(Math.abs(p.nodules[0].voxels / whole - 1) < 0.1, `${p.nodules[0].voxels} of ${whole}`);
});

test("writeCohort with the realistic preset: balanced labels, per-patient geometry, same seed same files", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "phantom-real-"));
  try {
    const opts = {
      patients: 4,
      seed: 5,
      preset: "realistic",
      matrix: 64,
      groundTruth: false,
    } as const;
    const a = await writeCohort({ ...opts, out: path.join(dir, "a") });
    assert.equal(a.patients.filter((p) => p.label === 1).length, 2);
    const spacings = new Set(a.patients.map((p) => p.series.files.length));
    assert.ok(spacings.size > 1, "slice counts differ between patients");
    const b = await writeCohort({ ...opts, out: path.join(dir, "b") });
    const digest = (c: typeof a) =>
      c.patients.map((p) =>
        createHash("sha256")
          .update(
            p.series.files
              .map((f) => readFileSync(f.path))
              .reduce((h, x) => h + createHash("sha1").update(x).digest("hex"), ""),
          )
          .digest("hex"),
      );
    assert.deepEqual(digest(b), digest(a));
    assert.equal(readFileSync(b.labelsCsv, "utf8"), readFileSync(a.labelsCsv, "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
