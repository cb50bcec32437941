import { extractPatch, SYMMETRIES, type Vec3 } from "@lungflow/volume";
import { clampOf, type KernelNorm } from "./kernel-norm.js";
import { copyPatch } from "./stream-copy.js";
import type { WasmVolume } from "./wasm-volume.js";

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
  copyPatch(n === w.out.length ? w.out : w.out.subarray(0, n), out, outOffset);
}
