import assert from "node:assert/strict";
import { test } from "node:test";
import { makePhantom, type Phantom } from "@lungflow/phantom";
import { crop, isLungflowError, makeVolume, type Volume } from "@lungflow/volume";
import { SegmentationError, segmentLungs } from "../src/index.ts";
import { metrics } from "./metrics.ts";
import { rng } from "./reference.ts";

const vol = (p: Phantom): Volume<Int16Array> => makeVolume(p.hu, p.shape, p.spacing, p.origin);

// Phantoms at 1 mm with a chest-sized field of view (300-340 mm), several seeds, with and
// without bowel gas, table and nodules (a third of them juxtapleural).
const CONFIGS = [
  { seed: 1, slices: 110, matrix: 300, bowelGas: true, table: true, nodules: 4 },
  { seed: 2, slices: 100, matrix: 320, bowelGas: false, table: false, nodules: 0 },
  { seed: 4, slices: 96, matrix: 340, bowelGas: false, table: true, nodules: 5 },
];

test("phantoms: Dice against the ground-truth lungs, nodules in the box, airways out, juxtapleural nodules in", () => {
  for (const c of CONFIGS) {
    const o = { ...c, pixelSpacing: 1, sliceSpacing: 1 };
    const p = makePhantom(o);
    const noNodules = c.nodules ? makePhantom({ ...o, nodules: [] }).lungMask : undefined;
    const airway = p.airwayMask.reduce((a, b) => a + b, 0);
    const k = segmentLungs(vol(p));
    const mk = metrics(p, k, noNodules);
    const im = segmentLungs(vol(p), { mode: "improved" });
    const mi = metrics(p, im, noNodules);
    const tag = `seed ${c.seed}`;
    // The exact kdsb17 mask leaves out vessels (above the threshold) and keeps the
    // airways and bowel gas: 0.984-0.986 on these phantoms (see the README); improved
    // fixes both (nodule voxels count for neither side: see metrics.ts).
    assert.ok(mk.dice >= 0.98, `${tag}: kdsb17 Dice ${mk.dice}`);
    assert.ok(mi.dice >= 0.99, `${tag}: improved Dice ${mi.dice}`);
    assert.equal(mk.nodulesInBox, p.nodules.length, `${tag}: kdsb17 box holds every nodule`);
    assert.equal(mi.nodulesInBox, p.nodules.length, `${tag}: improved box holds every nodule`);
    assert.ok(
      mk.airwayIn > 0.5 * airway,
      `${tag}: kdsb17 keeps the airways (${mk.airwayIn}/${airway})`,
    );
    assert.ok(
      mi.airwayIn < 0.08 * airway,
      `${tag}: improved removes the airways (${mi.airwayIn}/${airway})`,
    );
    p.nodules.forEach((d, i) => {
      assert.ok(mk.noduleCoverage[i] < 0.05, `${tag}: kdsb17 cuts nodule ${i} out`);
      if (d.juxtapleural)
        assert.ok(
          mi.noduleCoverage[i] >= 0.8,
          `${tag}: juxtapleural nodule ${i} in (${mi.noduleCoverage[i]})`,
        );
      else
        assert.ok(mi.noduleCoverage[i] >= 0.95, `${tag}: nodule ${i} in (${mi.noduleCoverage[i]})`);
    });
    // Geometry: the crops keep spacing and move the origin to the box corner.
    assert.deepEqual(
      k.mask.shape,
      k.bbox.map(([a, b]) => b - a),
    );
    assert.deepEqual(k.hu.data, crop(vol(p), k.bbox).data);
    assert.deepEqual(k.mask.origin, crop(vol(p), k.bbox).origin);
  }
});

test("NO_LUNG_FOUND: a uniform volume, a body without air, a lone air bubble", () => {
  const shape: [number, number, number] = [20, 64, 64];
  const n = shape[0] * shape[1] * shape[2];
  const uniform = makeVolume(new Int16Array(n).fill(-1000), shape);
  const body = new Int16Array(n);
  for (let z = 0; z < 20; z++)
    for (let y = 0; y < 64; y++)
      for (let x = 0; x < 64; x++) {
        const inside = (x - 31.5) ** 2 + (y - 31.5) ** 2 < 26 ** 2;
        const bubble = (x - 31.5) ** 2 + (y - 31.5) ** 2 + (z - 10) ** 2 < 6 ** 2;
        body[(z * 64 + y) * 64 + x] = !inside ? -1000 : bubble ? -1000 : 40;
      }
  const noBubble = body.map((v, i) =>
    v === -1000 && ((i % 64) - 31.5) ** 2 + ((Math.floor(i / 64) % 64) - 31.5) ** 2 < 26 ** 2
      ? 40
      : v,
  );
  for (const [name, v] of [
    ["uniform", uniform],
    ["body", makeVolume(noBubble, shape)],
    ["bubble", makeVolume(body, shape)],
  ] as const) {
    assert.throws(
      () => segmentLungs(v, { source: `case-${name}` }),
      (e: unknown) => {
        assert.ok(isLungflowError(e, "SegmentationError"));
        assert.ok(e instanceof SegmentationError);
        assert.equal(e.code, "NO_LUNG_FOUND");
        assert.equal(e.context.source, `case-${name}`);
        assert.match(e.message, new RegExp(`case-${name}`));
        return true;
      },
      name,
    );
  }
});

test("LUNG_TOUCHES_BORDER: lungs cut by the scan range or by the side of the field of view", () => {
  const p = makePhantom({ seed: 5, slices: 90, matrix: 300, pixelSpacing: 1, sliceSpacing: 1 });
  const v = vol(p);
  const cuts = {
    "z range": crop(v, [
      [30, 70],
      [0, 300],
      [0, 300],
    ]),
    "x side": crop(v, [
      [0, 90],
      [0, 300],
      [75, 300],
    ]),
  };
  for (const [name, c] of Object.entries(cuts)) {
    for (const mode of ["kdsb17", "improved"] as const) {
      assert.throws(
        () => segmentLungs(c, { mode, source: name }),
        (e: unknown) =>
          e instanceof SegmentationError &&
          e.code === "LUNG_TOUCHES_BORDER" &&
          e.context.source === name,
        `${name} ${mode}`,
      );
    }
  }
  // The message says what is cut, in mL a user can compare, and what to do about it.
  const why = (c: Volume<Int16Array>) => {
    try {
      segmentLungs(c);
    } catch (e) {
      if (e instanceof SegmentationError) return e;
    }
    assert.fail("expected a SegmentationError");
  };
  const side = why(cuts["x side"]);
  const { cutVolumeMl, lungVolumeMl } = side.context as Record<string, number>;
  assert.ok(cutVolumeMl > 0 && lungVolumeMl > 0, JSON.stringify(side.context));
  const m =
    /([\d.]+) mL of lung-like air .* side of the field of view .* ([\d.]+) mL of lung kept/.exec(
      side.message,
    );
  assert.ok(m, side.message);
  assert.ok(Math.abs(Number(m[1]) - cutVolumeMl) <= 0.5, `${m[1]} vs ${cutVolumeMl}`);
  assert.ok(Math.abs(Number(m[2]) - lungVolumeMl) <= 0.5, `${m[2]} vs ${lungVolumeMl}`);
  assert.match(side.message, /field of view is likely too small .* larger field of view/);
  assert.doesNotMatch(side.message, /\d{3,}\.\d%/); // no "119.6% of the lung volume"
  assert.match(why(cuts["z range"]).message, /scan range cuts the lungs: .* whole lung height/);
  // The whole scan is fine, and the check can be turned off.
  assert.ok(segmentLungs(v).stats.lungVoxels > 0);
  assert.ok(
    segmentLungs(cuts["z range"], { borderTolerance: Number.POSITIVE_INFINITY }).stats.lungVoxels >
      0,
  );
});

test("BAD_INPUT for a wrong volume or options", () => {
  const ok = makeVolume(new Int16Array(8), [2, 2, 2]);
  const bad = [
    () => segmentLungs({ ...ok, data: new Float32Array(8) } as unknown as Volume<Int16Array>),
    () => segmentLungs({ ...ok, shape: [2, 2, 3] }),
    () => segmentLungs(ok, { tailFraction: 0.7 }),
    () => segmentLungs(ok, { mode: "fast" as "kdsb17" }),
  ];
  for (const f of bad)
    assert.throws(f, (e: unknown) => e instanceof SegmentationError && e.code === "BAD_INPUT");
});

test("improved mode reads superior from the direction: a z-flipped volume gives the mirrored result", () => {
  const p = makePhantom({ seed: 6, slices: 90, matrix: 300, pixelSpacing: 1, sliceSpacing: 1 });
  const [nz, ny, nx] = p.shape;
  const plane = ny * nx;
  const flip = <T extends Int16Array | Uint8Array>(a: T): T => {
    const out = a.slice() as T;
    for (let z = 0; z < nz; z++)
      out.set(a.subarray(z * plane, (z + 1) * plane), (nz - 1 - z) * plane);
    return out;
  };
  const up = segmentLungs(vol(p), { mode: "improved" });
  // Same patient stored feet-first: slice 0 is now the top, the z axis points to -Z.
  const origin: [number, number, number] = [
    p.origin[0],
    p.origin[1],
    p.origin[2] + (nz - 1) * p.spacing[0],
  ];
  const down = segmentLungs(
    makeVolume(flip(p.hu), p.shape, p.spacing, origin, [
      [0, 0, -1],
      [0, 1, 0],
      [1, 0, 0],
    ]),
    { mode: "improved" },
  );
  // The tail drop sums from slice 0 and drops the slice where the sum crosses 1 - tail
  // but keeps the one where it crosses tail, so the z box may move by one slice.
  assert.ok(
    Math.abs(down.bbox[0][0] - (nz - up.bbox[0][1])) <= 1 &&
      Math.abs(down.bbox[0][1] - (nz - up.bbox[0][0])) <= 1,
  );
  assert.equal(down.stats.lungVoxels, up.stats.lungVoxels);
  assert.deepEqual(down.stats.fixes, up.stats.fixes);
  assert.ok(up.stats.fixes.removeAirways > 1000, "the airways were found");
});

test("random small volumes give a result or a SegmentationError, never another exception", () => {
  const rand = rng(9);
  for (let t = 0; t < 120; t++) {
    const shape: [number, number, number] = [
      1 + Math.floor(rand() * 12),
      1 + Math.floor(rand() * 40),
      1 + Math.floor(rand() * 40),
    ];
    const [nz, ny, nx] = shape;
    const hu = new Int16Array(nz * ny * nx);
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const i = (z * ny + y) * nx + x;
          const kind = t % 3;
          if (kind === 0) hu[i] = Math.floor(rand() * 2000) - 1024;
          else if (kind === 1) hu[i] = rand() < 0.5 ? -1000 : 40;
          else {
            // an air box in tissue in air, with noise
            const inBody = y > 2 && y < ny - 3 && x > 2 && x < nx - 3;
            const inBox = Math.abs(y - ny / 2) < ny / 4 && Math.abs(x - nx / 2) < nx / 4;
            hu[i] = (inBody ? (inBox ? -900 : 40) : -1000) + Math.floor(rand() * 200) - 100;
          }
        }
    for (const mode of ["kdsb17", "improved"] as const) {
      try {
        const s = segmentLungs(makeVolume(hu, shape), { mode, minLungVolumeMl: 0 });
        assert.ok(s.stats.lungVoxels > 0);
      } catch (e) {
        assert.ok(e instanceof SegmentationError, `${shape} ${mode}: ${e}`);
      }
    }
  }
});
