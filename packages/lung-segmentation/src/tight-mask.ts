import { type BBox, crop, type Vec3, type Volume } from "@lungflow/volume";
import { countBits, wordsPerRow } from "./bit-rows.js";
import type { RunLabels } from "./label-runs.js";

/**
 * The tight mask as bytes: the packed cleaned candidates `bits` inside the kept runs of
 * `rl` (labels with `keep[label]`), over the whole volume.
 */
export function unpackTight(bits: Int32Array, rl: RunLabels, keep: Uint8Array): Uint8Array {
  const [nz, ny, nx] = rl.shape;
  const W = wordsPerRow(nx);
  const out = new Uint8Array(nz * ny * nx);
  for (let i = 0; i < rl.runCount; i++) {
    if (!keep[rl.label[i]]) continue;
    const r = rl.row[i];
    unpackRange(bits, r * W, rl.start[i], rl.end[i], out, r * nx);
  }
  return out;
}

/** Writes bits [s, e) of the packed row at word `wb` to `out[ob + s .. ob + e)`. */
function unpackRange(
  bits: Int32Array,
  wb: number,
  s: number,
  e: number,
  out: Uint8Array,
  ob: number,
): void {
  for (let x = s; x < e; x++) out[ob + x] = (bits[wb + (x >>> 5)] >>> (x & 31)) & 1;
}

/** The tight mask cropped to `bbox`, straight from the packed bits (no full-size array). */
export function cropTightBits(
  ref: Volume<Int16Array>,
  bits: Int32Array,
  rl: RunLabels,
  keep: Uint8Array,
  bbox: BBox,
): Volume<Uint8Array> {
  const [, ny, nx] = rl.shape;
  const W = wordsPerRow(nx);
  const [[z0, z1], [y0, y1], [x0, x1]] = bbox;
  const cy = y1 - y0;
  const cx = x1 - x0;
  const out = new Uint8Array((z1 - z0) * cy * cx);
  for (let z = z0; z < z1; z++) {
    for (let i = rl.rowStart[z * ny + y0]; i < rl.rowStart[z * ny + y1]; i++) {
      if (!keep[rl.label[i]]) continue;
      const s = Math.max(rl.start[i], x0);
      const e = Math.min(rl.end[i], x1);
      if (e <= s) continue;
      const y = rl.row[i] - z * ny;
      unpackRange(bits, rl.row[i] * W, s, e, out, ((z - z0) * cy + (y - y0)) * cx - x0);
    }
  }
  return withGeometry(ref, out, bbox);
}

/** How much the mask touches the volume's border (see `borderTolerance`). */
export interface BorderContact {
  lungVoxels: number;
  /** Largest of the first / last slice's cross-section over the largest cross-section. */
  faceFraction: number;
  face: "first" | "last";
}

/** Measures the contact; `count(row, s, e)` counts tight-mask voxels of a row's [s, e). */
export function borderContact(
  count: (row: number, s: number, e: number) => number,
  rl: RunLabels,
  keep: Uint8Array,
): BorderContact {
  const [nz, ny] = rl.shape;
  let lungVoxels = 0;
  let maxSlice = 0;
  const perSlice = new Float64Array(nz);
  for (let z = 0; z < nz; z++) {
    let c = 0;
    for (let i = rl.rowStart[z * ny]; i < rl.rowStart[(z + 1) * ny]; i++) {
      if (keep[rl.label[i]]) c += count(rl.row[i], rl.start[i], rl.end[i]);
    }
    perSlice[z] = c;
    lungVoxels += c;
    if (c > maxSlice) maxSlice = c;
  }
  const first = maxSlice ? perSlice[0] / maxSlice : 0;
  const last = maxSlice ? perSlice[nz - 1] / maxSlice : 0;
  return {
    lungVoxels,
    faceFraction: Math.max(first, last),
    face: first >= last ? "first" : "last",
  };
}

/** Counters for {@link borderContact}: over packed bits, or over a byte mask. */
export const countInBits = (bits: Int32Array, nx: number) => {
  const W = wordsPerRow(nx);
  return (row: number, s: number, e: number) => countBits(bits, row * W, s, e);
};
export const countInBytes =
  (mask: Uint8Array, nx: number) => (row: number, s: number, e: number) => {
    let c = 0;
    for (let k = row * nx + s; k < row * nx + e; k++) c += mask[k];
    return c;
  };

/** Crops a full-size mask array with the geometry of `ref`. */
export function cropMask(
  ref: Volume<Int16Array>,
  mask: Uint8Array,
  bbox: BBox,
): Volume<Uint8Array> {
  return crop({ ...ref, data: mask }, bbox);
}

/**
 * The box mask inside `bbox`: the kept runs dilated along y by `ry` (a 1x5x1 box 4 times).
 * The box already spans every slice left by the tail drop and the whole y reach of the
 * dilation, so dilating inside the crop equals cropping the full dilation.
 */
export function boxMaskOf(
  ref: Volume<Int16Array>,
  rl: RunLabels,
  keep: Uint8Array,
  bbox: BBox,
  ry: number,
): Volume<Uint8Array> {
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
  return withGeometry(ref, out, bbox);
}

/** A volume of `data` with the geometry of `ref` cropped to `bbox`. */
function withGeometry(ref: Volume<Int16Array>, data: Uint8Array, bbox: BBox): Volume<Uint8Array> {
  const start = [bbox[0][0], bbox[1][0], bbox[2][0]];
  const origin = [...ref.origin] as Vec3;
  for (let a = 0; a < 3; a++)
    for (let k = 0; k < 3; k++) origin[k] += start[a] * ref.spacing[a] * ref.direction[a][k];
  return {
    data,
    shape: [bbox[0][1] - bbox[0][0], bbox[1][1] - bbox[1][0], bbox[2][1] - bbox[2][0]],
    spacing: [...ref.spacing] as Vec3,
    origin,
    direction: ref.direction.map((d) => [...d]) as [Vec3, Vec3, Vec3],
  };
}
