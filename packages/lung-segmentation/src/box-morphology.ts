/**
 * Binary erosion and dilation with a box (all-ones) structuring element on 3D masks, in
 * linear time per axis whatever the box size.
 *
 * Semantics are scipy.ndimage's `binary_erosion` / `binary_dilation` with
 * `structure=np.ones(size)`, `iterations=k` and `border_value=0` (voxels outside the
 * volume count as 0): iterating a box k times with a zero border equals one pass with a
 * box of `k * (size - 1) + 1` per axis, and a box is separable, so each axis is one
 * sweep: erosion keeps a voxel when the run of ones ending `r` voxels ahead is at least
 * `2r + 1` long; dilation keeps it when the last one seen lies within `r` behind it.
 * Both sweeps write `r` voxels behind the read position, so they work in place.
 */
export type Shape3 = readonly [number, number, number];

/** Erodes `mask` (0/1, C-order `shape`) with a box of odd `size` [z,y,x], `iterations` times. */
export function binaryErode(
  mask: Uint8Array,
  shape: Shape3,
  size: Shape3,
  iterations = 1,
  out?: Uint8Array,
): Uint8Array {
  return boxMorphology(mask, shape, size, iterations, out, true);
}

/** Dilates `mask` (0/1, C-order `shape`) with a box of odd `size` [z,y,x], `iterations` times. */
export function binaryDilate(
  mask: Uint8Array,
  shape: Shape3,
  size: Shape3,
  iterations = 1,
  out?: Uint8Array,
): Uint8Array {
  return boxMorphology(mask, shape, size, iterations, out, false);
}

/**
 * Opening: `iterations` erosions then `iterations` dilations, as
 * `scipy.ndimage.binary_opening(mask, np.ones(size), iterations)`.
 */
export function binaryOpening(
  mask: Uint8Array,
  shape: Shape3,
  size: Shape3,
  iterations = 1,
  out?: Uint8Array,
): Uint8Array {
  const o = binaryErode(mask, shape, size, iterations, out);
  return binaryDilate(o, shape, size, iterations, o);
}

function boxMorphology(
  mask: Uint8Array,
  shape: Shape3,
  size: Shape3,
  iterations: number,
  out: Uint8Array | undefined,
  erode: boolean,
): Uint8Array {
  const [nz, ny, nx] = shape;
  if (mask.length !== nz * ny * nx) {
    throw new RangeError(
      `mask has ${mask.length} voxels, shape ${shape.join("x")} needs ${nz * ny * nx}`,
    );
  }
  for (const k of size) {
    if (!Number.isInteger(k) || k < 1 || k % 2 === 0)
      throw new RangeError(`box size must be odd positive integers, got ${size.join("x")}`);
  }
  if (!Number.isInteger(iterations) || iterations < 0)
    throw new RangeError(`iterations must be a non-negative integer, got ${iterations}`);
  const o = out ?? new Uint8Array(mask.length);
  if (o !== mask) o.set(mask);
  if (iterations === 0) return o;
  const rz = (iterations * (size[0] - 1)) / 2;
  const ry = (iterations * (size[1] - 1)) / 2;
  const rx = (iterations * (size[2] - 1)) / 2;
  if (rx > 0) sweepX(o, nz * ny, nx, rx, erode);
  if (ry > 0) sweepPlanes(o, nz, ny, nx, ry, erode);
  if (rz > 0) sweepPlanes(o, 1, nz, ny * nx, rz, erode);
  return o;
}

/** One sweep along contiguous rows of length n. */
function sweepX(a: Uint8Array, rows: number, n: number, r: number, erode: boolean): void {
  const need = 2 * r + 1;
  for (let row = 0; row < rows; row++) {
    const base = row * n;
    if (erode) {
      let run = 0;
      for (let p = 0; p < n; p++) {
        run = a[base + p] ? run + 1 : 0;
        if (p >= r) a[base + p - r] = run >= need ? 1 : 0;
      }
      for (let i = Math.max(0, n - r); i < n; i++) a[base + i] = 0;
    } else {
      let last = -need - 1;
      const end = n - 1 + r;
      for (let p = 0; p <= end; p++) {
        if (p < n && a[base + p]) last = p;
        const i = p - r;
        if (i >= 0) a[base + i] = last >= i - r ? 1 : 0;
      }
    }
  }
}

/**
 * One sweep along an axis of length n whose lines are `stride` apart, for `blocks`
 * independent blocks: each step handles a whole plane of `stride` lines at once, so
 * memory is read in order.
 */
function sweepPlanes(
  a: Uint8Array,
  blocks: number,
  n: number,
  stride: number,
  r: number,
  erode: boolean,
): void {
  const need = 2 * r + 1;
  const state = new Int32Array(stride);
  for (let b = 0; b < blocks; b++) {
    const base = b * n * stride;
    if (erode) {
      state.fill(0); // run length of ones ending at p
      for (let p = 0; p < n; p++) {
        const src = base + p * stride;
        const dst = src - r * stride;
        for (let j = 0; j < stride; j++) {
          const run = a[src + j] ? state[j] + 1 : 0;
          state[j] = run;
          if (p >= r) a[dst + j] = run >= need ? 1 : 0;
        }
      }
      a.fill(0, base + Math.max(0, n - r) * stride, base + n * stride);
    } else {
      state.fill(-need - 1); // last index holding a one
      const end = n - 1 + r;
      for (let p = 0; p <= end; p++) {
        const src = base + p * stride;
        const i = p - r;
        const dst = base + i * stride;
        const lo = i - r;
        for (let j = 0; j < stride; j++) {
          let last = state[j];
          if (p < n && a[src + j]) {
            last = p;
            state[j] = p;
          }
          if (i >= 0) a[dst + j] = last >= lo ? 1 : 0;
        }
      }
    }
  }
}
