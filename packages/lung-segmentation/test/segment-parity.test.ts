import assert from "node:assert/strict";
import { test } from "node:test";
import { makePhantom } from "@lungflow/phantom";
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

test("kdsb17 mode equals the scipy/scikit-image reference voxel for voxel", {
  skip: referenceSkip,
}, () => {
  const phantoms = CASES.map((c) => makePhantom({ ...c, pixelSpacing: 1, sliceSpacing: 1 }));
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
            maskOutside += tight[i];
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
    void maskOutside;
  });
});
