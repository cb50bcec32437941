import { tf } from "@lungflow/tf-runtime";
import { normalizeHu } from "@lungflow/volume";
import { ClassifierError } from "./errors.js";
import type { FeatureMap } from "./tiled-encoder.js";

type Vec3 = [number, number, number];

/**
 * The classifier's input volume: HU normalised as everywhere (-1000 -> -1, 400 -> 1,
 * clipped), and with a lung `region` (see lung-segmentation's `lungRegion`) every voxel
 * outside it set to -1 (air). The crop box of a lung holds ribs, chest wall, heart and
 * mediastinum; masked, what is dense is a vessel or a nodule.
 */
export function lungInput(hu: Int16Array, region?: Uint8Array): Float32Array {
  const v = normalizeHu(hu);
  if (!region) return v;
  if (region.length !== hu.length)
    throw new ClassifierError(
      "BAD_CONFIG",
      `lung region holds ${region.length} voxels, the volume ${hu.length}`,
      { regionVoxels: region.length, voxels: hu.length },
    );
  for (let i = 0; i < v.length; i++) if (region[i] === 0) v[i] = -1;
  return v;
}

/**
 * The pooling of the density channel for an encoder of total `stride` and a `window`:
 * average over `window`^3 voxels every stride/2 voxels, then the max of 2^3 neighbours
 * ('same' padding throughout), which lands on the encoder's feature grid
 * (ceil(d / stride) per axis) and holds, per feature voxel, the densest `window`-cube near it.
 */
export function densityPools(
  stride: Vec3,
  window: number,
): { avg: { pool: Vec3; strides: Vec3 }; max?: { pool: Vec3; strides: Vec3 } } {
  if (!Number.isInteger(window) || window < 1)
    throw new ClassifierError(
      "BAD_CONFIG",
      `density window must be a positive integer, got ${window}`,
    );
  const even = stride.every((s) => s % 2 === 0);
  const w: Vec3 = [window, window, window];
  return even
    ? {
        avg: { pool: w, strides: stride.map((s) => s / 2) as Vec3 },
        max: { pool: [2, 2, 2], strides: [2, 2, 2] },
      }
    : { avg: { pool: w, strides: stride } };
}

/**
 * The density channel of a normalised (masked) volume on the feature grid of an encoder of
 * total `stride`: the same ops, in the same order, as the classifier's density layers, so
 * stored features and the end-to-end model agree. `[fz, fy, fx, 1]`.
 */
export function densityMap(x: Float32Array, shape: Vec3, stride: Vec3, window: number): FeatureMap {
  const p = densityPools(stride, window);
  const t = tf.tidy(() => {
    let y: tf.Tensor5D = tf.avgPool3d(
      tf.tensor5d(x, [1, ...shape, 1]),
      p.avg.pool,
      p.avg.strides,
      "same",
    );
    if (p.max) y = tf.maxPool3d(y, p.max.pool, p.max.strides, "same");
    return y;
  });
  const data = t.dataSync() as Float32Array;
  const [, fz, fy, fx] = t.shape;
  t.dispose();
  return { data: Float32Array.from(data), shape: [fz, fy, fx, 1] };
}

/** `[a, b]` along channels: two maps of the same grid, channels last. */
export function concatChannels(a: FeatureMap, b: FeatureMap): FeatureMap {
  const [z, y, x, ca] = a.shape;
  const cb = b.shape[3];
  if (b.shape[0] !== z || b.shape[1] !== y || b.shape[2] !== x)
    throw new ClassifierError(
      "BAD_CONFIG",
      `feature grids differ: [${a.shape.slice(0, 3).join(", ")}] and [${b.shape.slice(0, 3).join(", ")}]`,
    );
  const n = z * y * x;
  const c = ca + cb;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    out.set(a.data.subarray(i * ca, (i + 1) * ca), i * c);
    out.set(b.data.subarray(i * cb, (i + 1) * cb), i * c + ca);
  }
  return { data: out, shape: [z, y, x, c] };
}
