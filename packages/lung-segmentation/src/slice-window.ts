/** A rectangle of one slice: rows [y0, y1), columns [x0, x1). */
export interface Window {
  y0: number;
  y1: number;
  x0: number;
  x1: number;
}

/**
 * The bounding rectangle of the non-zero pixels of slice `o` (offset of its first voxel)
 * grown by `margin` and clipped to the slice, or undefined if the slice is empty.
 */
export function sliceWindow(
  a: Uint8Array,
  o: number,
  ny: number,
  nx: number,
  margin: number,
): Window | undefined {
  let y0 = ny;
  let y1 = -1;
  let x0 = nx;
  let x1 = -1;
  for (let y = 0; y < ny; y++) {
    const row = a.subarray(o + y * nx, o + (y + 1) * nx);
    const first = row.indexOf(1);
    if (first < 0) continue;
    if (y < y0) y0 = y;
    y1 = y;
    if (first < x0) x0 = first;
    const last = row.lastIndexOf(1);
    if (last > x1) x1 = last;
  }
  if (y1 < 0) return undefined;
  return {
    y0: Math.max(0, y0 - margin),
    y1: Math.min(ny, y1 + 1 + margin),
    x0: Math.max(0, x0 - margin),
    x1: Math.min(nx, x1 + 1 + margin),
  };
}

/** Copies window `w` of slice `o` out of `a` (h x w, row-major). */
export function readWindow(a: Uint8Array, o: number, nx: number, w: Window): Uint8Array {
  const cw = w.x1 - w.x0;
  const out = new Uint8Array((w.y1 - w.y0) * cw);
  for (let y = w.y0; y < w.y1; y++)
    out.set(a.subarray(o + y * nx + w.x0, o + y * nx + w.x1), (y - w.y0) * cw);
  return out;
}
