import { extractPatch, SYMMETRIES, type Vec3 } from "@lungflow/volume";
import { clampOf, type KernelNorm } from "./kernel-norm.js";

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
