import type { Volume } from "@lungflow/volume";
import { PNG } from "pngjs";

export type SliceAxis = "axial" | "coronal" | "sagittal";

export interface SlicePngOptions {
  /** Slice index along the axis (default: the middle, or the mask's busiest slice if a mask is given). */
  index?: number;
  /** HU window shown from black to white (default lung window [-1000, 400]). */
  window?: [number, number];
  /** Outline colour of the mask, RGB (default red). */
  outline?: [number, number, number];
  /** Integer upscaling factor (nearest neighbour), default 2. */
  scale?: number;
}

/** The 2D extent [rows, cols] of a slice along `axis` of a [z, y, x] shape. */
function planeShape(shape: readonly number[], axis: SliceAxis): [number, number] {
  const [nz, ny, nx] = shape;
  if (axis === "axial") return [ny, nx];
  if (axis === "coronal") return [nz, nx];
  return [nz, ny];
}

/** Flat index into [z,y,x] of pixel (r, c) of slice `k` along `axis`. Coronal/sagittal put head up (z reversed). */
function voxelIndex(
  shape: readonly number[],
  axis: SliceAxis,
  k: number,
  r: number,
  c: number,
): number {
  const [nz, ny, nx] = shape;
  if (axis === "axial") return (k * ny + r) * nx + c;
  if (axis === "coronal") return ((nz - 1 - r) * ny + k) * nx + c;
  return ((nz - 1 - r) * ny + c) * nx + k;
}

function busiestSlice(mask: Uint8Array, shape: readonly number[], axis: SliceAxis): number {
  const n = axis === "axial" ? shape[0] : axis === "coronal" ? shape[1] : shape[2];
  const [rows, cols] = planeShape(shape, axis);
  let best = Math.floor(n / 2);
  let bestCount = -1;
  for (let k = 0; k < n; k++) {
    let count = 0;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) count += mask[voxelIndex(shape, axis, k, r, c)];
    if (count > bestCount) {
      bestCount = count;
      best = k;
    }
  }
  return best;
}

/**
 * One slice of an HU volume as a PNG, windowed to grey, with the mask's outline drawn on top
 * (a mask pixel whose 4-neighbour is outside the mask). Voxels are assumed isotropic (the
 * store holds 1 mm volumes).
 */
export function slicePng(
  hu: Volume<Int16Array>,
  mask: Volume<Uint8Array> | undefined,
  axis: SliceAxis,
  opts: SlicePngOptions = {},
): Buffer {
  const shape = hu.shape;
  if (mask?.shape.some((s, i) => s !== shape[i])) {
    throw new RangeError(
      `slicePng: mask shape ${mask.shape.join("x")} differs from volume ${shape.join("x")}`,
    );
  }
  const n = axis === "axial" ? shape[0] : axis === "coronal" ? shape[1] : shape[2];
  const k = opts.index ?? (mask ? busiestSlice(mask.data, shape, axis) : Math.floor(n / 2));
  if (k < 0 || k >= n)
    throw new RangeError(`slicePng: index ${k} outside 0..${n - 1} on the ${axis} axis`);
  const [lo, hi] = opts.window ?? [-1000, 400];
  const [or, og, ob] = opts.outline ?? [255, 40, 40];
  const scale = Math.max(1, Math.floor(opts.scale ?? 2));
  const [rows, cols] = planeShape(shape, axis);
  const png = new PNG({ width: cols * scale, height: rows * scale });
  const inMask = (r: number, c: number) =>
    r >= 0 && r < rows && c >= 0 && c < cols && mask!.data[voxelIndex(shape, axis, k, r, c)] !== 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = hu.data[voxelIndex(shape, axis, k, r, c)];
      const g = Math.round((255 * Math.min(Math.max(v - lo, 0), hi - lo)) / (hi - lo));
      let rgb: [number, number, number] = [g, g, g];
      if (
        mask &&
        inMask(r, c) &&
        !(inMask(r - 1, c) && inMask(r + 1, c) && inMask(r, c - 1) && inMask(r, c + 1))
      ) {
        rgb = [or, og, ob];
      }
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const o = ((r * scale + dy) * png.width + c * scale + dx) * 4;
          png.data[o] = rgb[0];
          png.data[o + 1] = rgb[1];
          png.data[o + 2] = rgb[2];
          png.data[o + 3] = 255;
        }
      }
    }
  }
  return PNG.sync.write(png);
}
