import { type BBox, crop, type Vec3, type Volume } from "@lungflow/volume";
import type { Shape3 } from "./box-morphology.js";
import type { RunLabels } from "./label-runs.js";

/**
 * The tight mask: zeroes every voxel of `mask` (the cleaned candidates) outside the runs
 * of the kept component(s) of `rl` (labels with `keep[label]`), in place.
 */
export function restrictToComponent(mask: Uint8Array, rl: RunLabels, keep: Uint8Array): void {
  const [nz, ny, nx] = rl.shape;
  for (let r = 0; r < nz * ny; r++) {
    const base = r * nx;
    let x = 0;
    for (let i = rl.rowStart[r]; i < rl.rowStart[r + 1]; i++) {
      if (!keep[rl.label[i]]) continue;
      if (rl.start[i] > x) mask.fill(0, base + x, base + rl.start[i]);
      x = rl.end[i];
    }
    if (x < nx) mask.fill(0, base + x, base + nx);
  }
}

/** How much the mask touches the volume's border (see `borderTolerance`). */
export interface BorderContact {
  lungVoxels: number;
  /** Largest of the first / last slice's cross-section over the largest cross-section. */
  faceFraction: number;
  face: "first" | "last";
  /** Voxels of removed border-touching background inside the kept component, over lungVoxels. */
  sideFraction: number;
}

export function borderContact(
  mask: Uint8Array,
  shape: Shape3,
  rl: RunLabels,
  keep: Uint8Array,
  removedRuns: number[],
): BorderContact {
  const [nz, ny, nx] = shape;
  let lungVoxels = 0;
  let maxSlice = 0;
  const perSlice = new Float64Array(nz);
  for (let z = 0; z < nz; z++) {
    // Only rows holding kept runs can hold mask voxels.
    let c = 0;
    for (let i = rl.rowStart[z * ny]; i < rl.rowStart[(z + 1) * ny]; i++) {
      if (!keep[rl.label[i]]) continue;
      const b = rl.row[i] * nx;
      for (let k = b + rl.start[i]; k < b + rl.end[i]; k++) c += mask[k];
    }
    perSlice[z] = c;
    lungVoxels += c;
    if (c > maxSlice) maxSlice = c;
  }
  const first = maxSlice ? perSlice[0] / maxSlice : 0;
  const last = maxSlice ? perSlice[nz - 1] / maxSlice : 0;
  let overlap = 0;
  for (let k = 0; k < removedRuns.length; k += 3) {
    const r = removedRuns[k];
    const s = removedRuns[k + 1];
    const e = removedRuns[k + 2];
    for (let i = rl.rowStart[r]; i < rl.rowStart[r + 1]; i++) {
      if (!keep[rl.label[i]]) continue;
      const o = Math.min(e, rl.end[i]) - Math.max(s, rl.start[i]);
      if (o > 0) overlap += o;
    }
  }
  return {
    lungVoxels,
    faceFraction: Math.max(first, last),
    face: first >= last ? "first" : "last",
    sideFraction: lungVoxels ? overlap / lungVoxels : 0,
  };
}

/** Crops a full-size mask array with the geometry of `ref`. */
export function cropMask(ref: Volume<Int16Array>, mask: Uint8Array, bbox: BBox): Volume<Uint8Array> {
  return crop({ ...ref, data: mask }, bbox);
}

/**
 * The box mask inside `bbox`: the kept runs dilated along y by `ry` (a 1x5x1 box 4 times).
 * The box already spans every slice left by the tail drop and the whole y reach of the
 * dilation, so dilating inside the crop equals cropping the full dilation.
 */
export function boxMaskOf(ref: Volume<Int16Array>, rl: RunLabels, keep: Uint8Array, bbox: BBox, ry: number): Volume<Uint8Array> {
  const ny = rl.shape[1];
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  const cy = y1 - y0;
  const cx = x1 - x0;
  const out = new Uint8Array((z1 - z0) * cy * cx);
  for (let z = z0; z < z1; z++) {
    for (let i = rl.rowStart[z * ny]; i < rl.rowStart[(z + 1) * ny]; i++) {
      if (!keep[rl.label[i]]) continue;
      const y = rl.row[i] - z * ny;
      const s = Math.max(rl.start[i], x0);
      const e = Math.min(rl.end[i], x1);
      if (e <= s) continue;
      for (let yy = Math.max(y - ry, y0); yy <= Math.min(y + ry, y1 - 1); yy++) {
        const b = ((z - z0) * cy + (yy - y0)) * cx - x0;
        out.fill(1, b + s, b + e);
      }
    }
  }
  const origin = [...ref.origin] as Vec3;
  const start = [z0, y0, x0];
  for (let a = 0; a < 3; a++) for (let k = 0; k < 3; k++) origin[k] += start[a] * ref.spacing[a] * ref.direction[a][k];
  return { data: out, shape: [z1 - z0, cy, cx], spacing: [...ref.spacing] as Vec3, origin, direction: ref.direction };
}
