import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { fovMask } from "../src/encoding.ts";
import { CANCER_DIAMETER_MM, makePhantom, type Phantom } from "../src/index.ts";

/** 6-connected components of `mask`; returns labels (0 = background) and component sizes. */
function components(
  mask: Uint8Array,
  shape: readonly number[],
): { labels: Int32Array; sizes: number[] } {
  const [nz, ny, nx] = shape;
  const labels = new Int32Array(mask.length);
  const sizes = [0];
  const stack = new Int32Array(mask.length);
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || labels[s]) continue;
    const id = sizes.length;
    let top = 0;
    let n = 0;
    stack[top++] = s;
    labels[s] = id;
    while (top) {
      const i = stack[--top];
      n++;
      const x = i % nx;
      const y = Math.floor(i / nx) % ny;
      const z = Math.floor(i / (nx * ny));
      const nb = [
        x > 0 ? i - 1 : -1,
        x < nx - 1 ? i + 1 : -1,
        y > 0 ? i - nx : -1,
        y < ny - 1 ? i + nx : -1,
        z > 0 ? i - nx * ny : -1,
        z < nz - 1 ? i + nx * ny : -1,
      ];
      for (const j of nb) {
        if (j >= 0 && mask[j] && !labels[j]) {
          labels[j] = id;
          stack[top++] = j;
        }
      }
    }
    sizes.push(n);
  }
  return { labels, sizes };
}

function voxelOf(p: Phantom, c: readonly number[]): number {
  const [nz, ny, nx] = p.shape;
  const x = Math.round((c[0] - p.origin[0]) / p.spacing[2]);
  const y = Math.round((c[1] - p.origin[1]) / p.spacing[1]);
  const z = Math.round((c[2] - p.origin[2]) / p.spacing[0]);
  assert.ok(x >= 0 && x < nx && y >= 0 && y < ny && z >= 0 && z < nz);
  return (z * ny + y) * nx + x;
}

const p = makePhantom({ seed: 5, nodules: 4, cancer: true });
const [nz, ny, nx] = p.shape;
const plane = ny * nx;

describe("makePhantom", () => {
  test("defaults: shape, spacing, non-zero origin, id", () => {
    assert.deepEqual(p.shape, [48, 96, 96]);
    assert.deepEqual(p.spacing, [1.25, 0.7, 0.7]);
    assert.ok(p.origin.every((v) => v !== 0));
    assert.equal(p.hu.length, 48 * 96 * 96);
    assert.match(p.patientId, /^[0-9a-f]{32}$/);
    const q = makePhantom({
      seed: 1,
      slices: 20,
      matrix: 64,
      pixelSpacing: 0.9,
      sliceSpacing: 2.5,
      origin: [1, 2, 3],
    });
    assert.deepEqual(q.shape, [20, 64, 64]);
    assert.deepEqual(q.spacing, [2.5, 0.9, 0.9]);
    assert.deepEqual(q.origin, [1, 2, 3]);
  });

  test("deterministic: same seed bit-identical, other seed different", () => {
    const b = makePhantom({ seed: 5, nodules: 4, cancer: true });
    assert.deepEqual(b.hu, p.hu);
    assert.deepEqual(b.lungMask, p.lungMask);
    assert.deepEqual(b.nodules, p.nodules);
    const c = makePhantom({ seed: 6, nodules: 4, cancer: true });
    assert.notDeepEqual(c.hu, p.hu);
    assert.notDeepEqual(c.patientId, p.patientId);
  });

  test("lungs: mean ~-850 HU, two lungs, fully inside the volume in z", () => {
    let n = 0;
    let sum = 0;
    for (let i = 0; i < p.hu.length; i++) {
      if (p.lungMask[i] && p.hu[i] < -500) {
        n++;
        sum += p.hu[i];
      }
    }
    assert.ok(Math.abs(sum / n + 850) < 20, `lung mean ${sum / n}`);
    // No lung in the first and last 3 slices.
    for (const z of [0, 1, 2, nz - 3, nz - 2, nz - 1])
      assert.ok(
        p.lungMask.subarray(z * plane, (z + 1) * plane).every((v) => v === 0),
        `lung in slice ${z}`,
      );
    const { sizes } = components(p.lungMask, p.shape);
    const big = sizes.slice(1).sort((a, b) => b - a);
    assert.ok(big[0] > 0.3 * n && big[1] > 0.3 * n, `lung components ${big.slice(0, 4)}`);
    // Vessels are lung: bright voxels in the lung mask, ~1% of it.
    let vessels = 0;
    let lung = 0;
    for (let i = 0; i < p.hu.length; i++) {
      if (p.lungMask[i]) {
        lung++;
        if (p.hu[i] > -300) vessels++;
      }
    }
    assert.ok(vessels / lung > 0.002 && vessels / lung < 0.03, `vessel fraction ${vessels / lung}`);
  });

  test("airways: air, trachea from the top slice, joined to both lungs", () => {
    let sum = 0;
    let n = 0;
    for (let i = 0; i < p.hu.length; i++) {
      if (p.airwayMask[i]) {
        n++;
        sum += p.hu[i];
        assert.equal(p.lungMask[i], 0);
      }
    }
    assert.ok(n > 0 && Math.abs(sum / n + 1000) < 15, `airway mean ${sum / n}`);
    assert.ok(
      p.airwayMask.subarray((nz - 1) * plane).some((v) => v === 1),
      "trachea reaches the top slice",
    );
    const union = new Uint8Array(p.hu.length);
    for (let i = 0; i < union.length; i++) union[i] = p.lungMask[i] | p.airwayMask[i];
    const { labels, sizes } = components(union, p.shape);
    const main = sizes.indexOf(Math.max(...sizes.slice(1)));
    let lungIn = 0;
    let lungAll = 0;
    for (let i = 0; i < union.length; i++) {
      if (p.lungMask[i]) {
        lungAll++;
        if (labels[i] === main) lungIn++;
      }
    }
    assert.ok(lungIn / lungAll > 0.99, `lungs joined by the airways: ${lungIn / lungAll}`);
  });

  test("body, fat, spine, table separated from the body by air, -1000 outside the FOV", () => {
    const q = makePhantom({ seed: 5, nodules: 0, noiseHu: 0 });
    const values = new Set<number>();
    for (let i = 0; i < q.hu.length; i++) if (!q.lungMask[i]) values.add(q.hu[i]);
    for (const v of [-1000, -100, 40, 700, 100]) assert.ok(values.has(v), `tissue ${v} present`);
    // Centre column, mid slice: from the bottom, air, table, air gap, body (fat then soft tissue).
    const z = nz >> 1;
    const x = nx >> 1;
    const col = Array.from({ length: ny }, (_, y) => q.hu[(z * ny + y) * nx + x]);
    const runs: Array<[number, number]> = [];
    for (let y = ny - 1; y >= 0; y--) {
      const v = col[y] > -500 ? 1 : 0;
      if (runs.length && runs[runs.length - 1][0] === v) runs[runs.length - 1][1]++;
      else runs.push([v, 1]);
    }
    assert.deepEqual(
      runs.slice(0, 4).map((r) => r[0]),
      [0, 1, 0, 1],
      `runs ${JSON.stringify(runs)}`,
    );
    assert.ok(runs[2][1] >= 3, "air gap of >= 3 voxels between table and body");
    const tableTop = ny - runs[0][1] - runs[1][1];
    assert.equal(col[tableTop], 100);
    // Dense voxels form two 3D components: body and table (ribs/spine inside the body).
    const dense = new Uint8Array(q.hu.length);
    for (let i = 0; i < dense.length; i++) dense[i] = q.hu[i] > -500 ? 1 : 0;
    const { labels } = components(dense, q.shape);
    const tableLabel = labels[(z * ny + tableTop) * nx + x];
    const bodyBottom = ny - runs[0][1] - runs[1][1] - runs[2][1] - 1;
    const bodyLabel = labels[(z * ny + bodyBottom) * nx + x];
    assert.ok(tableLabel > 0 && bodyLabel > 0, "table and body are dense");
    assert.notEqual(tableLabel, bodyLabel, "table and body are separate 3D components");
    // Bone along the centre column (the spine), fat at the body surface.
    assert.ok(col.some((v) => v === 700));
    assert.equal(col[bodyBottom], -100);
    const fov = fovMask(ny, nx, q.fovRadiusPx);
    for (let i = 0; i < plane; i++)
      if (!fov[i]) for (let k = 0; k < nz; k++) assert.equal(p.hu[k * plane + i], -1000);
  });

  test("Gaussian noise ~noiseHu, huStep 2 gives even HU, no table option", () => {
    const clean = makePhantom({ seed: 8, noiseHu: 0 });
    const noisy = makePhantom({ seed: 8 });
    let n = 0;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < clean.hu.length; i++) {
      if (clean.hu[i] === 40) {
        const d = noisy.hu[i] - 40;
        n++;
        s += d;
        s2 += d * d;
      }
    }
    const sd = Math.sqrt(s2 / n - (s / n) ** 2);
    assert.ok(Math.abs(sd - 20) < 1.5 && Math.abs(s / n) < 1, `noise sd ${sd} mean ${s / n}`);
    assert.ok(makePhantom({ seed: 8, huStep: 2 }).hu.every((v) => v % 2 === 0));
    const noTable = makePhantom({ seed: 8, table: false, noiseHu: 0 });
    assert.ok(!noTable.hu.includes(100));
  });

  test("nodules are where listed, not lung, 3-30 mm, some juxtapleural", () => {
    assert.equal(p.nodules.length, 4);
    for (const d of p.nodules) {
      assert.ok(d.diameterMm >= 3 && d.diameterMm <= 30);
      assert.ok(d.hu >= 0 && d.hu <= 60);
      assert.ok(d.voxels > 0);
      const i = voxelOf(p, d.center);
      assert.equal(p.lungMask[i], 0);
      assert.equal(p.airwayMask[i], 0);
      assert.ok(Math.abs(p.hu[i] - d.hu) < 100, `nodule centre HU ${p.hu[i]} vs ${d.hu}`);
    }
    // Over many seeds, juxtapleural nodules appear and touch non-lung tissue.
    let juxta = 0;
    for (let s = 0; s < 6; s++)
      juxta += makePhantom({ seed: 100 + s, nodules: 3 }).nodules.filter(
        (d) => d.juxtapleural,
      ).length;
    assert.ok(juxta >= 3, `juxtapleural nodules: ${juxta}`);
    const clean = makePhantom({ seed: 5, nodules: 4, cancer: true, noiseHu: 0 });
    for (const d of clean.nodules) {
      let count = 0;
      for (let i = 0; i < clean.hu.length; i++)
        if (clean.hu[i] === d.hu && !clean.lungMask[i]) count++;
      assert.ok(count >= d.voxels, `${d.voxels} voxels of HU ${d.hu}`);
    }
  });

  test("explicit nodules and the label rule (cancer iff a nodule >= 10 mm)", () => {
    const c = p.nodules[0].center;
    const small = makePhantom({ seed: 5, nodules: [{ center: c, diameterMm: 9.9, hu: 30 }] });
    assert.equal(small.label, 0);
    assert.deepEqual(small.nodules[0].center, c);
    const big = makePhantom({
      seed: 5,
      nodules: [{ center: c, diameterMm: CANCER_DIAMETER_MM, hu: 30 }],
    });
    assert.equal(big.label, 1);
    assert.equal(big.nodules[0].hu, 30);
    assert.equal(makePhantom({ seed: 5 }).label, 0);
    for (let s = 0; s < 8; s++) {
      const yes = makePhantom({ seed: s, nodules: 2, cancer: true });
      const no = makePhantom({ seed: s, nodules: 3, cancer: false });
      assert.equal(yes.label, 1);
      assert.equal(no.label, 0);
      assert.ok(no.nodules.every((d) => d.diameterMm < CANCER_DIAMETER_MM));
    }
  });

  test("bowel gas lies below the lungs, inside the body", () => {
    const a = makePhantom({ seed: 9, noiseHu: 0 });
    const b = makePhantom({ seed: 9, noiseHu: 0, bowelGas: true });
    let firstLung = nz;
    for (let i = 0; i < a.hu.length; i++)
      if (a.lungMask[i]) firstLung = Math.min(firstLung, Math.floor(i / plane));
    let n = 0;
    for (let i = 0; i < a.hu.length; i++) {
      if (a.hu[i] !== b.hu[i]) {
        n++;
        assert.equal(b.hu[i], -980);
        assert.equal(a.hu[i], 40);
        assert.ok(Math.floor(i / plane) < firstLung);
      }
    }
    assert.ok(n > 0);
  });

  test("bad options throw RangeError naming the option", () => {
    assert.throws(() => makePhantom({ seed: -1 }), /seed/);
    assert.throws(() => makePhantom({ seed: 1, matrix: 10 }), /matrix/);
    assert.throws(() => makePhantom({ seed: 1, slices: 2.5 }), /slices/);
    assert.throws(() => makePhantom({ seed: 1, pixelSpacing: 0 }), /pixelSpacing/);
    assert.throws(
      () => makePhantom({ seed: 1, matrix: 48, pixelSpacing: 0.5, nodules: 1, cancer: true }),
      /does not fit/,
    );
  });
});
