import { SYMMETRIES, type Vec3 } from "@lungflow/volume";
import { clampOf, type KernelNorm } from "./kernel-norm.js";
import type { NativePatchKernel } from "./native-addon.js";
import type { WasmVolume } from "./wasm-volume.js";

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
