import {
  type SlabArrayCtor,
  type SlabKernel,
  type SlabRunner,
  serialSlabs,
  slabCount,
  slabRange,
} from "./slabs.js";
import type { Vec3, Volume, VoxelArray } from "./volume.js";
import { VolumeError } from "./volume-error.js";

/** Options of {@link resample}. */
export interface ResampleOptions {
  /**
   * `"linear"` (trilinear, scipy `order=1`) or `"nearest"` (scipy `order=0`). Default: nearest
   * for `Uint8Array` volumes (masks), linear for everything else.
   */
  interpolation?: "linear" | "nearest";
  /**
   * Splits the output into z-slabs that a threaded runner may resample at once (the
   * output is then allocated by the runner, on shared memory). Each output voxel is
   * computed the same way whatever the split: the result is identical. Default: one slab
   * on the calling thread.
   */
  runner?: SlabRunner;
}

/** Output slices per slab when a runner splits the work (each slab recomputes one or two input slices in plane). */
const SLAB_SLICES = 16;

/**
 * The seed's (kdsb17) zoom factor and output size of one axis:
 * `f = (1 - 1/n) * (spacing / newSpacing) + 1/n`, `size = round(n * f)`.
 *
 * `round` is Python's `round` (half to even), because kdsb17 passes `f` to
 * `scipy.ndimage.zoom`, which computes the output shape as `int(round(n * f))`. The
 * arithmetic is done in the same order in float64, so the sizes equal scipy's.
 * Note `n * f = (n - 1) * spacing / newSpacing + 1`: the first and last voxel centres stay
 * where they were, and the true new spacing is `(n - 1) * spacing / (size - 1)`.
 */
export function zoomSize(
  n: number,
  spacing: number,
  newSpacing: number,
): { factor: number; size: number } {
  const factor = (1 - 1 / n) * (spacing / newSpacing) + 1 / n;
  return { factor, size: roundHalfEven(n * factor) };
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; Python rounds it to the even neighbour.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Per output index: the two input indices `i0`, `i1` and their weights (linear), or the
 * nearest input index in both (nearest). Coordinate mapping is scipy's `zoom` with
 * `grid_mode=False` (scipy >= 1.6): output `i` samples input `i * (nIn - 1) / (nOut - 1)`.
 */
export interface AxisTable {
  i0: Int32Array;
  i1: Int32Array;
  /** weight of i0 */
  w0: Float64Array;
  /** weight of i1 */
  w1: Float64Array;
}

function axisTable(nIn: number, nOut: number, nearest: boolean): AxisTable {
  const i0 = new Int32Array(nOut);
  const i1 = new Int32Array(nOut);
  const w0 = new Float64Array(nOut);
  const w1 = new Float64Array(nOut);
  // As scipy: the zoom is (nIn - 1) / (nOut - 1), or 1 when nOut == 1.
  const zoom = nOut > 1 ? (nIn - 1) / (nOut - 1) : 1;
  for (let i = 0; i < nOut; i++) {
    const c = i * zoom;
    if (nearest) {
      // scipy order=0: floor(c + 0.5), clamped into the input.
      const k = Math.min(nIn - 1, Math.max(0, Math.floor(c + 0.5)));
      i0[i] = k;
      i1[i] = k;
    } else {
      const k = Math.min(nIn - 1, Math.max(0, Math.floor(c)));
      i0[i] = k;
      i1[i] = Math.min(nIn - 1, k + 1);
      // scipy's get_spline_interpolation_weights: w0 = 1 - t, w1 = 1 - w0 (not t itself).
      w0[i] = 1 - (c - k);
      w1[i] = 1 - w0[i];
    }
  }
  return { i0, i1, w0, w1 };
}

/**
 * Resamples a volume to `newSpacing` (mm, `[dz, dy, dx]`) as kdsb17 did with
 * `scipy.ndimage.zoom(arr, f, order=1)`: same output size (see {@link zoomSize}), same
 * sample positions, same rounding of integer outputs (half away from zero), so the result
 * equals scipy 1.10's voxel for voxel (proved by a test against Debian's scipy).
 *
 * The returned spacing is the actual spacing after the zoom, `(n - 1) * spacing / (size - 1)`
 * per axis (within a fraction of a percent of `newSpacing`; `newSpacing` itself where the
 * output has a single sample); origin and direction are unchanged (voxel 0 stays put).
 *
 * Separable and streaming: each input slice is resampled in-plane once (y, then x, in
 * float64), and each output slice blends two of those along z. Memory: the output plus
 * two slices. Masks (`Uint8Array`) use nearest neighbour unless told otherwise.
 */
export function resample<T extends VoxelArray>(
  vol: Volume<T>,
  newSpacing: Vec3 = [1, 1, 1],
  opts: ResampleOptions = {},
): Volume<T> {
  const { data, shape, spacing } = vol;
  const [nz, ny, nx] = shape;
  if (data.length !== nz * ny * nx || shape.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new VolumeError(
      "BAD_SHAPE",
      `resample: shape ${shape.join("x")} does not match ${data.length} voxels`,
      {
        shape,
        length: data.length,
      },
    );
  }
  for (let a = 0; a < 3; a++) {
    if (
      !(spacing[a] > 0) ||
      !(newSpacing[a] > 0) ||
      !Number.isFinite(spacing[a]) ||
      !Number.isFinite(newSpacing[a])
    ) {
      throw new VolumeError(
        "BAD_SPACING",
        `resample: spacing must be positive (got ${spacing} -> ${newSpacing})`,
        {
          spacing,
          newSpacing,
        },
      );
    }
  }
  const nearest =
    (opts.interpolation ?? (data instanceof Uint8Array ? "nearest" : "linear")) === "nearest";
  const out3 = [0, 1, 2].map((a) => zoomSize(shape[a], spacing[a], newSpacing[a]).size) as Vec3;
  const [oz, oy, ox] = out3;
  const tz = axisTable(nz, oz, nearest);
  const ty = axisTable(ny, oy, nearest);
  const tx = axisTable(nx, ox, nearest);
  const runner = opts.runner ?? serialSlabs;
  const out = runner.alloc(data.constructor as SlabArrayCtor<T>, oz * oy * ox);
  const parts = runner === serialSlabs ? 1 : slabCount(oz, SLAB_SLICES);
  runner.forEach(resampleKernel, parts, {
    src: data,
    dst: out,
    ny,
    nx,
    out: out3,
    tz,
    ty,
    tx,
    nearest,
    parts,
  });
  const newSp = [0, 1, 2].map((a) =>
    out3[a] > 1 ? ((shape[a] - 1) * spacing[a]) / (out3[a] - 1) : newSpacing[a],
  ) as Vec3;
  return {
    data: out,
    shape: out3,
    spacing: newSp,
    origin: [...vol.origin] as Vec3,
    direction: vol.direction.map((d) => [...d]) as [Vec3, Vec3, Vec3],
  };
}

/** What one slab of {@link resampleKernel} needs. */
export interface ResampleSlabArgs {
  src: VoxelArray;
  dst: VoxelArray;
  ny: number;
  nx: number;
  out: Vec3;
  tz: AxisTable;
  ty: AxisTable;
  tx: AxisTable;
  nearest: boolean;
  /** Number of slabs the output z range is split into. */
  parts: number;
}

/** One output z-slab of {@link resample}. */
export const resampleKernel: SlabKernel<ResampleSlabArgs> = {
  name: "volume/resample",
  run(a, part) {
    const [oz, oy, ox] = a.out;
    const [z0, z1] = slabRange(oz, a.parts, part);
    if (a.nearest)
      gatherNearest(a.src, a.dst, a.ny, a.nx, z0, z1, oy, ox, a.tz.i0, a.ty.i0, a.tx.i0);
    else linear(a.src, a.dst, a.ny, a.nx, z0, z1, oy, ox, a.tz, a.ty, a.tx);
  },
};

function gatherNearest(
  src: VoxelArray,
  dst: VoxelArray,
  ny: number,
  nx: number,
  z0: number,
  z1: number,
  oy: number,
  ox: number,
  iz: Int32Array,
  iy: Int32Array,
  ix: Int32Array,
): void {
  let o = z0 * oy * ox;
  for (let z = z0; z < z1; z++) {
    const zb = iz[z] * ny;
    for (let y = 0; y < oy; y++) {
      const rb = (zb + iy[y]) * nx;
      for (let x = 0; x < ox; x++) dst[o++] = src[rb + ix[x]];
    }
  }
}

/**
 * scipy's own sum for one output voxel: the 8 corners in C order (x fastest), each
 * `value * wz * wy * wx` left to right, added to 0. Used only where our separable sum lands
 * within 1e-7 of a .5 tie, so that float64 noise rounds the same way as in scipy.
 */
function scipyVoxel(
  src: VoxelArray,
  ny: number,
  nx: number,
  tz: AxisTable,
  ty: AxisTable,
  tx: AxisTable,
  z: number,
  y: number,
  x: number,
): number {
  let t = 0;
  for (let a = 0; a < 2; a++) {
    const zi = a ? tz.i1[z] : tz.i0[z];
    const wz = a ? tz.w1[z] : tz.w0[z];
    for (let b = 0; b < 2; b++) {
      const row = (zi * ny + (b ? ty.i1[y] : ty.i0[y])) * nx;
      const wy = b ? ty.w1[y] : ty.w0[y];
      t += src[row + tx.i0[x]] * wz * wy * tx.w0[x];
      t += src[row + tx.i1[x]] * wz * wy * tx.w1[x];
    }
  }
  return t;
}

const TIE_EPS = 1e-7;

/**
 * Blends two in-plane slices along z (`s0 * w0 + s1 * w1`) and stores the output slice as
 * scipy does: round half away from zero for integers (`t > 0 ? t + 0.5 : t - 0.5`,
 * truncated), clamped for unsigned types; float32 cast from float64. Near-ties are
 * recomputed with scipy's exact arithmetic ({@link scipyVoxel}).
 */
function storeSlice(
  dst: VoxelArray,
  z: number,
  s0: Float64Array,
  w0: number,
  s1: Float64Array,
  w1: number,
  src: VoxelArray,
  ny: number,
  nx: number,
  ox: number,
  tz: AxisTable,
  ty: AxisTable,
  tx: AxisTable,
): void {
  const n = s0.length;
  const off = z * n;
  if (dst instanceof Float32Array) {
    for (let i = 0; i < n; i++) dst[off + i] = s0[i] * w0 + s1[i] * w1;
    return;
  }
  if (dst instanceof Int16Array) {
    // Int16Array stores truncate toward zero.
    for (let i = 0; i < n; i++) {
      let t = s0[i] * w0 + s1[i] * w1;
      const m = t < 0 ? -t : t;
      const f = m - Math.floor(m);
      if (f > 0.5 - TIE_EPS && f < 0.5 + TIE_EPS) {
        t = scipyVoxel(src, ny, nx, tz, ty, tx, z, Math.floor(i / ox), i % ox);
      }
      dst[off + i] = t > 0 ? t + 0.5 : t - 0.5;
    }
    return;
  }
  const max = dst instanceof Uint8Array ? 255 : 65535;
  for (let i = 0; i < n; i++) {
    let t = s0[i] * w0 + s1[i] * w1;
    const f = (t < 0 ? -t : t) % 1;
    if (f > 0.5 - TIE_EPS && f < 0.5 + TIE_EPS) {
      t = scipyVoxel(src, ny, nx, tz, ty, tx, z, Math.floor(i / ox), i % ox);
    }
    dst[off + i] = t > 0 ? Math.min(max, t + 0.5) : 0;
  }
}

function linear(
  src: VoxelArray,
  dst: VoxelArray,
  ny: number,
  nx: number,
  z0: number,
  z1: number,
  oy: number,
  ox: number,
  tz: AxisTable,
  ty: AxisTable,
  tx: AxisTable,
): void {
  const plane = oy * ox;
  const rows = new Float64Array(nx); // one row of an input slice resampled along y
  // Two in-plane-resampled input slices, cached by input index.
  const slotA = new Float64Array(plane);
  const slotB = new Float64Array(plane);
  let idxA = -1;
  let idxB = -1;
  // In plane: the y pass first on whole input rows (contiguous, no gathers), then the x
  // pass (a gather through the x table) on the oy rows that result.
  const inPlane = (z: number, s: Float64Array): void => {
    const base = z * ny * nx;
    for (let y = 0; y < oy; y++) {
      const r0 = base + ty.i0[y] * nx;
      const r1 = base + ty.i1[y] * nx;
      const a = ty.w0[y];
      const b = ty.w1[y];
      for (let x = 0; x < nx; x++) rows[x] = src[r0 + x] * a + src[r1 + x] * b;
      const ob = y * ox;
      const { i0, i1, w0, w1 } = tx;
      for (let x = 0; x < ox; x++) s[ob + x] = rows[i0[x]] * w0[x] + rows[i1[x]] * w1[x];
    }
  };
  const get = (z: number): Float64Array => {
    if (z === idxA) return slotA;
    if (z === idxB) return slotB;
    // Evict the slot holding the smaller index: z only grows along the output.
    if (idxA < idxB) {
      inPlane(z, slotA);
      idxA = z;
      return slotA;
    }
    inPlane(z, slotB);
    idxB = z;
    return slotB;
  };
  for (let z = z0; z < z1; z++) {
    const s0 = get(tz.i0[z]);
    // w1 = 0 (on a source slice, or the last one): blend with itself, exact (s0 * 1 + s0 * 0).
    const s1 = tz.w1[z] === 0 ? s0 : get(tz.i1[z]);
    storeSlice(dst, z, s0, tz.w0[z], s1, tz.w1[z], src, ny, nx, ox, tz, ty, tx);
  }
}
