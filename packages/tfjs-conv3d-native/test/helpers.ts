import * as tf from "@tensorflow/tfjs";

export { tf };

export type Pad = "same" | "valid" | number;
export type V3 = [number, number, number];

/** One convolution problem: x [N, D, H, W, C] and filter [KD, KH, KW, C, CO]. */
export interface Case {
  x: [number, number, number, number, number];
  k: [number, number, number, number, number];
  s: V3;
  pad: Pad;
}

export interface Results {
  y: Float32Array;
  dx: Float32Array;
  dw: Float32Array;
}

/** Deterministic uniform [-1, 1) values (xorshift32), so every run sees the same data. */
export function randArray(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Runs conv3d, conv3dTranspose (Conv3DBackpropInputV2) and Conv3DBackpropFilterV2 through
 * whatever kernels are registered for `cpu` now, on data seeded by `seed`.
 */
export function runOps(c: Case, seed: number): Results {
  return tf.tidy(() => {
    const x = tf.tensor5d(randArray(size(c.x), seed), c.x);
    const w = tf.tensor5d(randArray(size(c.k), seed + 1), c.k);
    const y = tf.conv3d(x, w, c.s, c.pad as "same");
    const dy = tf.tensor5d(randArray(y.size, seed + 2), y.shape as Case["x"]);
    const dx = tf.conv3dTranspose(dy, w, c.x, c.s, c.pad as "same");
    const dw = tf
      .engine()
      .runKernel(
        "Conv3DBackpropFilterV2",
        { x, dy },
        { strides: c.s, pad: c.pad, filterShape: c.k },
      );
    return {
      y: y.dataSync() as Float32Array,
      dx: dx.dataSync() as Float32Array,
      dw: (dw as tf.Tensor).dataSync() as Float32Array,
    };
  });
}

/** max |a - b| / max |b|; Infinity on NaN or a length mismatch. */
export function relErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (Number.isNaN(diff)) return Infinity;
    if (diff > d) d = diff;
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

export async function cpuBackend(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}
