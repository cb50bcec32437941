/** Ground-truth metrics of a segmentation against a phantom. */
import type { LungSegmentation } from "../src/index.ts";

export interface PhantomTruth {
  shape: [number, number, number];
  spacing: [number, number, number];
  origin: [number, number, number];
  lungMask: Uint8Array;
  airwayMask: Uint8Array;
  nodules: {
    center: [number, number, number];
    diameterMm: number;
    juxtapleural: boolean;
    voxels: number;
  }[];
}

export interface Metrics {
  /** Dice against the lungs (nodule voxels ignored when the nodule-free lung mask is given). */
  dice: number;
  /** Airway voxels inside the tight mask. */
  airwayIn: number;
  /** Nodules whose centre voxel lies in the crop box. */
  nodulesInBox: number;
  /** Per nodule: the fraction of its voxels inside the tight mask. */
  noduleCoverage: number[];
  juxtapleural: boolean[];
}

/**
 * `lungWithoutNodules`: the lung mask of the same phantom made without nodules; the
 * nodules' voxels are then exactly the lung they replaced (the phantom paints a nodule as
 * a sphere clipped to the lung). Without it, coverage is counted over the whole sphere.
 */
export function metrics(
  p: PhantomTruth,
  seg: LungSegmentation,
  lungWithoutNodules?: Uint8Array,
): Metrics {
  const [nz, ny, nx] = p.shape;
  const [[z0, z1], [y0, y1], [x0, x1]] = seg.bbox;
  const cy = y1 - y0;
  const cx = x1 - x0;
  const inMask = (z: number, y: number, x: number) =>
    z >= z0 && z < z1 && y >= y0 && y < y1 && x >= x0 && x < x1
      ? seg.mask.data[((z - z0) * cy + (y - y0)) * cx + (x - x0)]
      : 0;
  let inter = 0;
  let a = 0;
  let b = 0;
  let airwayIn = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const i = (z * ny + y) * nx + x;
        const m = inMask(z, y, x);
        // Nodule voxels are neither lung nor background for the Dice: the ground truth
        // leaves them out of the lung, the improved mode keeps them in on purpose.
        if (lungWithoutNodules?.[i] && !p.lungMask[i]) continue;
        a += p.lungMask[i];
        b += m;
        if (m && p.lungMask[i]) inter++;
        if (m && p.airwayMask[i]) airwayIn++;
      }
  let nodulesInBox = 0;
  const noduleCoverage: number[] = [];
  for (const d of p.nodules) {
    // LPS -> voxel, for the axial direction of the phantom
    const fx = (d.center[0] - p.origin[0]) / p.spacing[2];
    const fy = (d.center[1] - p.origin[1]) / p.spacing[1];
    const fz = (d.center[2] - p.origin[2]) / p.spacing[0];
    const [zz, yy, xx] = [Math.round(fz), Math.round(fy), Math.round(fx)];
    if (zz >= z0 && zz < z1 && yy >= y0 && yy < y1 && xx >= x0 && xx < x1) nodulesInBox++;
    const r = d.diameterMm / 2;
    let tot = 0;
    let cov = 0;
    for (let z = Math.ceil(fz - r); z <= fz + r; z++)
      for (let y = Math.ceil(fy - r); y <= fy + r; y++)
        for (let x = Math.ceil(fx - r); x <= fx + r; x++) {
          if (z < 0 || y < 0 || x < 0 || z >= nz || y >= ny || x >= nx) continue;
          if ((z - fz) ** 2 + (y - fy) ** 2 + (x - fx) ** 2 > r * r) continue;
          const i = (z * ny + y) * nx + x;
          if (lungWithoutNodules && !(lungWithoutNodules[i] && !p.lungMask[i])) continue;
          tot++;
          cov += inMask(z, y, x);
        }
    noduleCoverage.push(tot ? cov / tot : 0);
  }
  return {
    dice: (2 * inter) / (a + b),
    airwayIn,
    nodulesInBox,
    noduleCoverage,
    juxtapleural: p.nodules.map((d) => d.juxtapleural),
  };
}
