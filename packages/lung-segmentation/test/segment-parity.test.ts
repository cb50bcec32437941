import assert from "node:assert/strict";
import { test } from "node:test";
import { makePhantom, type Phantom } from "@lungflow/phantom";
import { makeVolume } from "@lungflow/volume";
import { segmentLungs } from "../src/index.ts";
import { referenceSkip, runReference } from "./reference.ts";

// The whole kdsb17 method against test/fixtures/reference.py (scipy.ndimage + skimage, the
// same steps written the obvious way): threshold, tight mask, box mask and bbox must agree
// voxel for voxel. Small phantoms (1 mm, no resampling) with and without gas and table.
const CASES = [
  { seed: 11, slices: 60, matrix: 150, bowelGas: true, table: true, nodules: 2 },
  { seed: 12, slices: 50, matrix: 128, bowelGas: false, table: false, nodules: 0 },
  { seed: 13, slices: 70, matrix: 170, bowelGas: true, table: false, nodules: 3, noiseHu: 35 },
];

/**
 * The second case with 10 more slices of chest wall above the lungs and a 10x10-voxel air
 * tube (-850 HU) from the top of the left lung up to the first slice: lung that the tail
 * drop cuts away (the tube's few voxels a slice fall under 0.5% of the lung), so that what
 * lies outside the crop is checked on lung voxels, not only on empty slices.
 */
function withTube(p: Phantom): Phantom {
  const pad = 10;
  const [nz, ny, nx] = p.shape;
  const s = ny * nx;
  const hu = new Int16Array((nz + pad) * s);
  for (let z = 0; z < pad; z++) hu.set(p.hu.subarray(0, s), z * s);
  hu.set(p.hu, pad * s);
  // The left lung's first slice is the phantom's fifth; y 60, x 38 lie inside it.
  for (let z = 0; z < pad + 5; z++)
    for (let y = 55; y < 65; y++) hu.fill(-850, (z * ny + y) * nx + 33, (z * ny + y) * nx + 43);
  return { ...p, hu, shape: [nz + pad, ny, nx] };
}

test("kdsb17 mode equals the scipy/scikit-image reference voxel for voxel", {
  skip: referenceSkip,
}, () => {
  const phantoms = CASES.map((c) => makePhantom({ ...c, pixelSpacing: 1, sliceSpacing: 1 }));
  phantoms.push(withTube(phantoms[1]));
  const refs = runReference(
    phantoms.map((p) => ({ op: "kdsb17", data: p.hu, shape: p.shape, tail: 0.005 })),
  );
  phantoms.forEach((p, k) => {
    const seg = segmentLungs(makeVolume(p.hu, p.shape, p.spacing, p.origin), {
      boxMask: true,
      minLungVolumeMl: 1,
    });
    const ref = refs[k];
    assert.equal(seg.otsuThreshold, ref.json.threshold, `case ${k}: threshold`);
    assert.deepEqual(seg.bbox, ref.json.bbox, `case ${k}: bbox`);
    const [[z0, z1], [y0, y1], [x0, x1]] = seg.bbox;
    const [, ny, nx] = p.shape;
    const tight = ref.read(".tight");
    const box = ref.read(".box");
    const [low, high] = seg.stats.tailSlicesDropped;
    let mism = 0;
    let maskOutside = 0;
    let lung = 0;
    for (let z = 0; z < p.shape[0]; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const i = (z * ny + y) * nx + x;
          const inside = z >= z0 && z < z1 && y >= y0 && y < y1 && x >= x0 && x < x1;
          const j = ((z - z0) * (y1 - y0) + (y - y0)) * (x1 - x0) + (x - x0);
          lung += tight[i];
          if (!inside) {
            // outside the crop the reference's box mask is empty; its tight mask may not be
            // (tails), and ours is cropped away there
            assert.equal(box[i], 0, `case ${k}: box voxel outside the bbox`);
            if (tight[i]) {
              // Only the tail slices dropped lie outside the crop: within its slices the
              // crop holds the whole mask.
              assert.ok(
                (z >= z0 - low && z < z0) || (z >= z1 && z < z1 + high),
                `case ${k}: lung voxel (${z}, ${y}, ${x}) outside the crop, not in a dropped tail slice`,
              );
              maskOutside++;
            }
            continue;
          }
          if (seg.mask.data[j] !== tight[i] || seg.boxMask!.data[j] !== box[i]) mism++;
        }
    assert.equal(mism, 0, `case ${k}: ${mism} voxels differ from the reference`);
    assert.ok(lung > 1000, `case ${k}: the reference found lungs`);
    assert.equal(
      seg.stats.lungVoxels,
      lung,
      `case ${k}: lung voxels counted over the whole volume`,
    );
    // The tube's top slices are dropped with the lung in them (10x10 voxels a slice).
    if (k === 3) {
      assert.ok(low >= 1, `case ${k}: tail slices dropped above`);
      assert.equal(maskOutside, 100 * low, `case ${k}: the tube's voxels in the dropped slices`);
    } else assert.equal(maskOutside, 0, `case ${k}: no lung in the dropped tails`);
  });
});
