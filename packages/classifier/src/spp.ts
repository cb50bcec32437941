import { tf } from "@lungflow/tf-runtime";

/**
 * The voxel range `[start, end)` of bin `i` of `n` along an axis of length `len`.
 *
 * Bins are `[floor(i*len/n), ceil((i+1)*len/n))`: every voxel belongs to at least one bin,
 * no bin is empty even when `len < n` (small inputs repeat voxels across bins), and when
 * `n` divides `len` the bins tile the axis exactly. kdsb17 used `floor` on both ends and
 * silently dropped the remainder voxels; we keep them.
 */
export function sppBin(len: number, n: number, i: number): [number, number] {
  return [Math.floor((i * len) / n), Math.ceil(((i + 1) * len) / n)];
}

/** Output features of SPP for `channels` input channels and the given bin counts. */
export function sppOutputSize(channels: number, bins: readonly number[]): number {
  return channels * bins.reduce((s, n) => s + n * n * n, 0);
}

/**
 * How a bin is reduced: `max` (kdsb17), `mean`, or `lse`: the log-mean-exp
 * `m + log(mean(exp(r (x - m)))) / r` with `m` the bin's maximum and `r` the sharpness. It lies
 * between the mean (r -> 0) and the maximum (r -> infinity), and unlike the maximum passes a
 * gradient to every voxel near the top, so a detector map learns from all of a nodule's
 * voxels and not only from the one that happens to be largest.
 */
export type SppPooling = "max" | "mean" | "lse";

/**
 * 3D spatial pyramid pooling of a `[B, D, H, W, C]` tensor into `[B, C * sum(n^3)]` (max
 * pooling unless `pooling` says otherwise). Features are ordered level by level (in `bins`
 * order), then bin z, y, x, then channel.
 */
export function spatialPyramidPool3d(
  x: tf.Tensor5D,
  bins: readonly number[],
  pooling: SppPooling = "max",
  sharpness = 1,
): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, d, h, w, c] = x.shape;
    const parts: tf.Tensor2D[] = [];
    for (const n of bins) {
      for (let iz = 0; iz < n; iz++) {
        const [z0, z1] = sppBin(d, n, iz);
        for (let iy = 0; iy < n; iy++) {
          const [y0, y1] = sppBin(h, n, iy);
          for (let ix = 0; ix < n; ix++) {
            const [x0, x1] = sppBin(w, n, ix);
            const region = tf.slice(x, [0, z0, y0, x0, 0], [b, z1 - z0, y1 - y0, x1 - x0, c]);
            parts.push(poolRegion(region, pooling, sharpness));
          }
        }
      }
    }
    return tf.concat(parts, 1);
  });
}

function poolRegion(region: tf.Tensor5D, pooling: SppPooling, r: number): tf.Tensor2D {
  const axes = [1, 2, 3];
  if (pooling === "max") return tf.max(region, axes) as tf.Tensor2D;
  if (pooling === "mean") return tf.mean(region, axes) as tf.Tensor2D;
  const m = tf.max(region, axes, true);
  const lme = tf.div(tf.log(tf.mean(tf.exp(tf.mul(tf.sub(region, m), r)), axes)), r);
  return tf.add(tf.reshape(m, lme.shape), lme) as tf.Tensor2D;
}

export interface SpatialPyramidPooling3DArgs {
  /** Bins per axis at each pyramid level (default `[1, 2, 4]`). */
  bins?: number[];
  /** Reduction of each bin (default `max`). */
  pooling?: SppPooling;
  /** Sharpness `r` of `lse` pooling (default 1). */
  sharpness?: number;
  name?: string;
  trainable?: boolean;
}

/**
 * `SpatialPyramidPooling3D` (He et al. 2014, in 3D): turns a feature map of any spatial size
 * into a fixed-length vector, so the classifier can take whole variable-size lung volumes.
 * A serialisable Keras-style layer: `tf.layers.Layer` subclass registered with tfjs's
 * serialization, so models using it save and load by class name.
 */
export class SpatialPyramidPooling3D extends tf.layers.Layer {
  static className = "SpatialPyramidPooling3D";
  readonly bins: number[];
  readonly pooling: SppPooling;
  readonly sharpness: number;

  constructor(args: SpatialPyramidPooling3DArgs = {}) {
    super({ name: args.name, trainable: args.trainable });
    const bins = args.bins ?? [1, 2, 4];
    if (bins.length === 0 || bins.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new RangeError(
        `SpatialPyramidPooling3D: bins must be positive integers, got [${bins.join(", ")}]`,
      );
    }
    this.bins = [...bins];
    this.pooling = args.pooling ?? "max";
    if (!["max", "mean", "lse"].includes(this.pooling))
      throw new RangeError(`SpatialPyramidPooling3D: unknown pooling ${String(this.pooling)}`);
    this.sharpness = args.sharpness ?? 1;
    if (!(this.sharpness > 0 && Number.isFinite(this.sharpness)))
      throw new RangeError(
        `SpatialPyramidPooling3D: sharpness must be positive, got ${this.sharpness}`,
      );
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (s.length !== 5)
      throw new RangeError(`SpatialPyramidPooling3D expects a 5D input, got rank ${s.length}`);
    const c = s[4];
    return [s[0], c == null ? null : sppOutputSize(c, this.bins)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor5D;
    return spatialPyramidPool3d(x, this.bins, this.pooling, this.sharpness);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      bins: this.bins,
      pooling: this.pooling,
      sharpness: this.sharpness,
    };
  }
}
tf.serialization.registerClass(SpatialPyramidPooling3D);
