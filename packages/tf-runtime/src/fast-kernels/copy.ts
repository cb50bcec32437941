/**
 * Data-movement kernels for float32, int32 and bool tensors: Slice, SplitV, PadV2, Concat.
 *
 * tfjs's `cpu` Slice (and SplitV, built on it) copies a non-contiguous slice one element at
 * a time through `TensorBuffer.get/set` with coordinate arrays (~1 µs per element: 0.6 s to
 * cut the means out of a GMCAE's [4, 131080] output), and PadV2 converts every index too.
 * Here both move whole contiguous runs (the trailing axes a slice or pad covers entirely),
 * with `TypedArray.set` for long runs and a plain loop for short ones. Values are copied
 * bit for bit, so results equal tfjs's exactly.
 */
import {
  alloc,
  type CpuBackend,
  type FastKernel,
  type KernelArgs,
  type NumArray,
  numeric,
  sizeOf,
  stridesOf,
  type TensorInfo,
} from "./common.js";

/** Runs at least this long are copied with TypedArray.set (a subarray view each). */
const SET_MIN = 48;

function copyRun(src: NumArray, from: number, dst: NumArray, to: number, n: number): void {
  if (n >= SET_MIN) dst.set(src.subarray(from, from + n), to);
  else for (let j = 0; j < n; j++) dst[to + j] = src[from + j];
}

/**
 * Copies the block `begin`/`size` of `src` (shape `shape`) into `dst` (row-major with strides
 * `dstStrides`, starting at `dstOffset`). Walks the axes before the last partially covered
 * one; every step copies one contiguous run.
 */
function copyBlock(
  src: NumArray,
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
  dst: NumArray,
  dstStrides: readonly number[],
  dstOffset: number,
): void {
  const r = shape.length;
  const ss = stridesOf(shape);
  // Trailing axes copied whole in both arrays merge into one run.
  let k = r - 1;
  while (k > 0 && size[k] === shape[k] && dstStrides[k - 1] === size[k] * dstStrides[k]) k--;
  if (r === 0) {
    dst[dstOffset] = src[0];
    return;
  }
  const run = size[k] * ss[k];
  let so = 0;
  for (let d = 0; d < r; d++) so += begin[d] * ss[d];
  let doff = dstOffset;
  const idx = new Array<number>(k).fill(0);
  const total = sizeOf(size.slice(0, k));
  for (let t = 0; t < total; t++) {
    copyRun(src, so, dst, doff, run);
    for (let d = k - 1; d >= 0; d--) {
      so += ss[d];
      doff += dstStrides[d];
      if (++idx[d] < size[d]) break;
      so -= ss[d] * size[d];
      doff -= dstStrides[d] * size[d];
      idx[d] = 0;
    }
  }
}

/** tfjs's `slice_util.isSliceContinous`: the slice is one run of the input. */
function isContinuous(
  shape: readonly number[],
  begin: readonly number[],
  size: readonly number[],
): boolean {
  let first = size.length;
  for (let i = 0; i < size.length; i++) {
    if (size[i] > 1) {
      first = i;
      break;
    }
  }
  for (let i = first + 1; i < size.length; i++) {
    if (begin[i] > 0 || size[i] !== shape[i]) return false;
  }
  return true;
}

/** Slice params as tfjs's `slice_util.parseSliceParams` normalises them; undefined if invalid. */
function sliceParams(
  shape: readonly number[],
  beginRaw: unknown,
  sizeRaw: unknown,
): [number[], number[]] | undefined {
  const r = shape.length;
  const asList = (v: unknown, fill: number): number[] | undefined => {
    if (v === undefined || v === null) return new Array(r).fill(fill);
    const l = typeof v === "number" ? [v] : Array.isArray(v) ? (v as number[]).slice() : undefined;
    if (!l || l.length > r) return undefined;
    while (l.length < r) l.push(fill);
    return l;
  };
  const begin = asList(beginRaw, 0);
  const size0 = asList(sizeRaw, -1);
  if (!begin || !size0) return undefined;
  const size = size0.map((s, i) => (s === -1 ? shape[i] - begin[i] : s));
  for (let i = 0; i < r; i++) {
    if (!Number.isInteger(begin[i]) || !Number.isInteger(size[i])) return undefined;
    if (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > shape[i]) return undefined;
  }
  return [begin, size];
}

function sliceOf(
  be: CpuBackend,
  x: TensorInfo,
  xv: NumArray,
  begin: number[],
  size: number[],
): TensorInfo {
  const n = sizeOf(size);
  if (isContinuous(x.shape, begin, size)) {
    // What tfjs does: a view on the input's buffer (no copy).
    const xs = stridesOf(x.shape);
    const off = begin.reduce((o, b, i) => o + b * xs[i], 0);
    return be.makeTensorInfo(size, x.dtype, xv.subarray(off, off + n));
  }
  const out = alloc(xv, n);
  copyBlock(xv, x.shape, begin, size, out, stridesOf(size), 0);
  return be.makeTensorInfo(size, x.dtype, out);
}

const slice: FastKernel = ({ inputs, backend, attrs }: KernelArgs) => {
  const { x } = inputs as Record<string, TensorInfo | undefined>;
  const xv = numeric(backend, x);
  if (!xv || !x || x.shape.length === 0) return undefined;
  const p = sliceParams(x.shape, attrs?.begin, attrs?.size);
  if (!p || sizeOf(p[1]) === 0) return undefined;
  return sliceOf(backend, x, xv, p[0], p[1]);
};

const splitV: FastKernel = ({ inputs, backend, attrs }: KernelArgs) => {
  const { x } = inputs as Record<string, TensorInfo | undefined>;
  const xv = numeric(backend, x);
  if (!xv || !x) return undefined;
  const r = x.shape.length;
  let axis = attrs?.axis as number;
  if (Array.isArray(axis)) axis = axis[0];
  if (!Number.isInteger(axis) || axis < -r || axis >= r) return undefined;
  if (axis < 0) axis += r;
  const len = x.shape[axis];
  const raw = attrs?.numOrSizeSplits;
  let sizes: number[];
  if (typeof raw === "number") {
    if (raw <= 0 || len % raw !== 0) return undefined;
    sizes = new Array(raw).fill(len / raw);
  } else if (Array.isArray(raw)) {
    sizes = (raw as number[]).slice();
    const neg = sizes.filter((s) => s === -1).length;
    if (neg > 1) return undefined;
    if (neg === 1) sizes[sizes.indexOf(-1)] = len - sizes.reduce((a, b) => (b > 0 ? a + b : a), 0);
    if (
      sizes.some((s) => !Number.isInteger(s) || s < 0) ||
      sizes.reduce((a, b) => a + b, 0) !== len
    )
      return undefined;
  } else return undefined;
  if (sizes.some((s) => s === 0) || sizeOf(x.shape) === 0) return undefined;
  const begin = new Array(r).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const t = sliceOf(backend, x, xv, begin.slice(), size);
    begin[axis] += s;
    return t;
  });
};

const padV2: FastKernel = ({ inputs, backend, attrs }: KernelArgs) => {
  const { x } = inputs as Record<string, TensorInfo | undefined>;
  const xv = numeric(backend, x);
  const paddings = attrs?.paddings as Array<[number, number]> | undefined;
  if (!xv || !x || !Array.isArray(paddings) || paddings.length !== x.shape.length) return undefined;
  if (paddings.some((p) => !Array.isArray(p) || !(p[0] >= 0) || !(p[1] >= 0))) return undefined;
  if (xv.length === 0 || x.shape.length === 0) return undefined;
  const cv = Number(attrs?.constantValue ?? 0);
  const outShape = paddings.map((p, i) => p[0] + x.shape[i] + p[1]);
  const out = alloc(xv, sizeOf(outShape));
  if (cv !== 0) out.fill(cv);
  const os = stridesOf(outShape);
  const offset = paddings.reduce((o, p, i) => o + p[0] * os[i], 0);
  copyBlock(xv, x.shape, new Array(x.shape.length).fill(0), x.shape, out, os, offset);
  return backend.makeTensorInfo(outShape, x.dtype, out);
};

const concat: FastKernel = ({ inputs, backend, attrs }: KernelArgs) => {
  const list = (Array.isArray(inputs) ? inputs : Object.values(inputs)) as TensorInfo[];
  if (list.length < 2) return undefined;
  const first = list[0];
  const r = first.shape.length;
  let axis = attrs?.axis as number;
  if (Array.isArray(axis)) axis = axis[0];
  if (r === 0 || !Number.isInteger(axis) || axis < -r || axis >= r) return undefined;
  if (axis < 0) axis += r;
  const vals: NumArray[] = [];
  for (const t of list) {
    const v = numeric(backend, t);
    if (!v || t.dtype !== first.dtype || t.shape.length !== r || v.length === 0) return undefined;
    if (t.shape.some((d, i) => i !== axis && d !== first.shape[i])) return undefined;
    vals.push(v);
  }
  const outShape = first.shape.slice();
  outShape[axis] = list.reduce((s, t) => s + t.shape[axis], 0);
  const outer = sizeOf(first.shape.slice(0, axis));
  const inners = list.map((t) => sizeOf(t.shape.slice(axis)));
  const row = inners.reduce((a, b) => a + b, 0);
  const out = alloc(vals[0], outer * row);
  let col = 0;
  for (let t = 0; t < list.length; t++) {
    const n = inners[t];
    const v = vals[t];
    for (let o = 0; o < outer; o++) copyRun(v, o * n, out, o * row + col, n);
    col += n;
  }
  return backend.makeTensorInfo(outShape, first.dtype, out);
};

/** The data-movement fast kernels by tfjs kernel name. */
export function copyKernels(): Record<string, FastKernel> {
  return { Slice: slice, SplitV: splitV, PadV2: padV2, Concat: concat };
}
