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
 * 3D spatial pyramid max pooling of a `[B, D, H, W, C]` tensor into `[B, C * sum(n^3)]`.
 * Features are ordered level by level (in `bins` order), then bin z, y, x, then channel.
 */
export function spatialPyramidPool3d(x: tf.Tensor5D, bins: readonly number[]): tf.Tensor2D {
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
            parts.push(tf.max(region, [1, 2, 3]) as tf.Tensor2D);
          }
        }
      }
    }
    return tf.concat(parts, 1);
  });
}

export interface SpatialPyramidPooling3DArgs {
  /** Bins per axis at each pyramid level (default `[1, 2, 4]`). */
  bins?: number[];
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

  constructor(args: SpatialPyramidPooling3DArgs = {}) {
    super({ name: args.name, trainable: args.trainable });
    const bins = args.bins ?? [1, 2, 4];
    if (bins.length === 0 || bins.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new RangeError(
        `SpatialPyramidPooling3D: bins must be positive integers, got [${bins.join(", ")}]`,
      );
    }
    this.bins = [...bins];
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
    return spatialPyramidPool3d(x, this.bins);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), bins: this.bins };
  }
}
tf.serialization.registerClass(SpatialPyramidPooling3D);
