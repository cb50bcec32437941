import {
  type NativePatchKernel,
  type NativeStreamCopy,
  nativePatchKernel,
  nativeStreamCopy,
} from "@lungflow/tfjs-conv3d-native";
import { extractPatch, SYMMETRIES, type Vec3 } from "@lungflow/volume";
import type { WasmVolume } from "./wasm-kernel.js";

let streamCopy: NativeStreamCopy | null | undefined;

/**
 * Whether {@link augmentIntoWasm} copies finished patches into the batch with the native
 * addon's non-temporal stores (default: yes where the addon is built). The batch buffer's
 * lines are then neither read first nor kept in cache: 17 -> 8 us per 32^3 patch into cold
 * batch memory in a C test here. Returns whether it is in use.
 */
export function useNativeStreamCopy(on = true): boolean {
  streamCopy = on ? (nativeStreamCopy() ?? null) : null;
  return streamCopy !== null;
}

/** Normalisation `v -> (v + offset) * scale + shift`, optionally clipped to [-1, 1]. */
export interface KernelNorm {
  scale: number;
  shift: number;
  clip: boolean;
}

/** The clamp of the normalised values: [-1, 1], or no bound when `clip` is off. */
function clampOf(norm: KernelNorm): [lo: number, hi: number] {
  return norm.clip ? [-1, 1] : [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
}

/** `scale` and `shift` mapping `min` HU to -1 and `max` HU to +1. */
export function kernelNorm(min: number, max: number, clip: boolean): KernelNorm {
  const scale = 2 / (max - min);
  return { scale, shift: -1 - min * scale, clip };
}

/**
 * The hot path: extracts the box `origin`+`size` of `src` (shape `shape`), applies symmetry
 * `sym`, adds `offset` HU and normalises, writing float32 into `out` at `outOffset`. One
 * strided pass over the source, with no intermediate arrays when the box lies inside the
 * volume (boxes that reach outside go through `scratch`, filled with air).
 */
export function augmentInto(
  src: Int16Array,
  shape: Vec3,
  origin: Vec3,
  size: Vec3,
  sym: number,
  offset: number,
  norm: KernelNorm,
  out: Float32Array,
  outOffset: number,
  scratch?: Int16Array,
): void {
  let data = src;
  let sh = shape;
  let o = origin;
  const inside =
    origin[0] >= 0 &&
    origin[1] >= 0 &&
    origin[2] >= 0 &&
    origin[0] + size[0] <= shape[0] &&
    origin[1] + size[1] <= shape[1] &&
    origin[2] + size[2] <= shape[2];
  if (!inside) {
    const n = size[0] * size[1] * size[2];
    data = extractPatch(
      { data: src, shape },
      origin,
      size,
      -1000,
      scratch && scratch.length === n ? scratch : undefined,
    );
    sh = size;
    o = [0, 0, 0];
  }
  const { perm, flips } = SYMMETRIES[sym];
  const stride = [sh[1] * sh[2], sh[2], 1];
  let base = (o[0] * sh[1] + o[1]) * sh[2] + o[2];
  const st = [0, 0, 0];
  const n = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const p = perm[a];
    n[a] = size[p];
    if (flips[a]) {
      st[a] = -stride[p];
      base += (size[p] - 1) * stride[p];
    } else st[a] = stride[p];
  }
  const a = norm.scale;
  const b = offset * norm.scale + norm.shift;
  const [lo, hi] = clampOf(norm);
  gather(data, out, outOffset, base, n[0], n[1], n[2], st[0], st[1], st[2], a, b, lo, hi);
}

/** out[k++] = clamp(src[base + i*s0 + j*s1 + l*s2] * a + b, lo, hi) in output order. */
function gather(
  src: Int16Array,
  out: Float32Array,
  k: number,
  base: number,
  n0: number,
  n1: number,
  n2: number,
  s0: number,
  s1: number,
  s2: number,
  a: number,
  b: number,
  lo: number,
  hi: number,
): void {
  for (let i = 0; i < n0; i++) {
    let r = base + i * s0;
    for (let j = 0; j < n1; j++, r += s1) {
      let s = r;
      for (let l = 0; l < n2; l++, s += s2) {
        const v = src[s] * a + b;
        out[k++] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
}

/**
 * {@link augmentInto} on a volume held in wasm memory, with the SIMD kernel. The loops are
 * ordered so that the innermost one reads a source row forwards (the kernel loads 8 voxels
 * at a time); a mirrored row is written backwards instead.
 */
export function augmentIntoWasm(
  w: WasmVolume,
  origin: Vec3,
  size: Vec3,
  sym: number,
  offset: number,
  norm: KernelNorm,
  out: Float32Array,
  outOffset: number,
): void {
  const n = size[0] * size[1] * size[2];
  if (n > w.patchVoxels)
    throw new RangeError(`patch of ${n} voxels exceeds the wasm scratch (${w.patchVoxels})`);
  // Coordinates in the padded volume.
  const shape = w.padded;
  const pad = w.pad;
  const z = origin[0] + pad;
  const y = origin[1] + pad;
  const x = origin[2] + pad;
  const inside =
    z >= 0 &&
    y >= 0 &&
    x >= 0 &&
    z + size[0] <= shape[0] &&
    y + size[1] <= shape[1] &&
    x + size[2] <= shape[2];
  // The patch is first cut into the dense scratch (64 KiB for 32^3, it stays in cache), then
  // transformed from there: reading ~1000 scattered source rows with the transform's own
  // access pattern stalls on each cache miss, the copy's regular loads are prefetched.
  if (!inside) {
    // Beyond the air border: filled with air (rare: far-out grid tiles).
    extractPatch(
      { data: w.hu, shape },
      [z, y, x],
      size,
      -1000,
      w.scratch.length === n ? w.scratch : w.scratch.subarray(0, n),
    );
  } else {
    w.copyin(
      2 * ((z * shape[1] + y) * shape[2] + x),
      w.scratchPtr,
      size[0],
      size[1],
      2 * shape[1] * shape[2],
      2 * shape[2],
      2 * size[2],
    );
  }
  // From here on the source is the dense block [size] in the scratch.
  const src = w.scratchPtr;
  const sh: Vec3 = size;
  const { perm, flips } = SYMMETRIES[sym];
  const m = [size[perm[0]], size[perm[1]], size[perm[2]]];
  const ostride = [m[1] * m[2], m[2], 1];
  const stride = [sh[1] * sh[2], sh[2], 1];
  let base = 0;
  const st = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    const p = perm[a];
    if (flips[a]) {
      st[a] = -stride[p];
      base += (m[a] - 1) * stride[p];
    } else st[a] = stride[p];
  }
  const c = perm[0] === 2 ? 0 : perm[1] === 2 ? 1 : 2;
  const p = c === 0 ? 1 : 0;
  const q = c === 2 ? 1 : 2;
  let dst = 0;
  let oc = ostride[c];
  if (st[c] < 0) {
    base += (m[c] - 1) * st[c];
    dst += (m[c] - 1) * ostride[c];
    oc = -oc;
  }
  const a = norm.scale;
  const b = offset * norm.scale + norm.shift;
  const [lo, hi] = clampOf(norm);
  if (c !== 2 && m[c] % 8 === 0 && m[2] % 8 === 0) {
    // Source rows run along output axis z or y: 8x8 blocks transposed in registers.
    const r = c === 0 ? 1 : 0;
    w.tile(
      src + 2 * base,
      w.outPtr + 4 * dst,
      m[r],
      2 * st[r],
      4 * ostride[r],
      m[c],
      4 * oc,
      m[2],
      2 * st[2],
      a,
      b,
      lo,
      hi,
    );
  } else {
    w.gather(
      src + 2 * base,
      w.outPtr + 4 * dst,
      m[p],
      m[q],
      m[c],
      2 * st[p],
      2 * st[q],
      4 * ostride[p],
      4 * ostride[q],
      4 * oc,
      a,
      b,
      lo,
      hi,
    );
  }
  if (streamCopy === undefined) useNativeStreamCopy();
  const patch = n === w.out.length ? w.out : w.out.subarray(0, n);
  if (streamCopy) streamCopy(patch, out, outOffset);
  else out.set(patch, outOffset);
}

let patchKernel: NativePatchKernel | null | undefined;

/** The native patch kernel of `@lungflow/tfjs-conv3d-native`, or null where the addon is not built. */
export function nativeKernel(): NativePatchKernel | null {
  if (patchKernel === undefined) useNativeKernel();
  return patchKernel ?? null;
}

/**
 * Whether this thread may use the native patch kernel (default: yes where the addon is
 * built; `false` behaves as if it were not built: tests of that case). Returns whether it is
 * in use.
 */
export function useNativeKernel(on = true): boolean {
  patchKernel = on ? (nativePatchKernel() ?? null) : null;
  return patchKernel !== null;
}

/** One patch for {@link augmentManyNative}. */
export interface PatchJob {
  origin: Vec3;
  sym: number;
  offset: number;
  /** Element offset of the patch in `out`. */
  outOffset: number;
}

/**
 * {@link augmentIntoWasm} for many patches of one volume in one native call (the addon's
 * AVX2 kernel reading the volume in wasm memory; bit-identical results). Returns the jobs it
 * left to the caller: boxes that reach beyond the volume's air border (rare).
 */
export function augmentManyNative(
  kernel: NativePatchKernel,
  w: WasmVolume,
  size: Vec3,
  jobs: readonly PatchJob[],
  norm: KernelNorm,
  out: Float32Array,
  simd = true,
): PatchJob[] {
  const rest: PatchJob[] = [];
  const ints = new Int32Array(8 * jobs.length);
  const b = new Float32Array(jobs.length);
  const shape = w.padded;
  const pad = w.pad;
  let k = 0;
  for (const j of jobs) {
    const z = j.origin[0] + pad;
    const y = j.origin[1] + pad;
    const x = j.origin[2] + pad;
    if (
      z < 0 ||
      y < 0 ||
      x < 0 ||
      z + size[0] > shape[0] ||
      y + size[1] > shape[1] ||
      x + size[2] > shape[2]
    ) {
      rest.push(j);
      continue;
    }
    const { perm, flips } = SYMMETRIES[j.sym];
    ints.set(
      [
        z,
        y,
        x,
        perm[0],
        perm[1],
        perm[2],
        (flips[0] ? 1 : 0) | (flips[1] ? 2 : 0) | (flips[2] ? 4 : 0),
        j.outOffset,
      ],
      8 * k,
    );
    // The wasm kernel's b: computed in double, rounded to float32 on the call.
    b[k++] = j.offset * norm.scale + norm.shift;
  }
  if (k > 0) {
    kernel(
      w.hu,
      Int32Array.from(shape),
      Int32Array.from(size),
      k === jobs.length ? ints : ints.subarray(0, 8 * k),
      k === jobs.length ? b : b.subarray(0, k),
      Float32Array.of(norm.scale, ...clampOf(norm)),
      out,
      simd,
    );
  }
  return rest;
}
