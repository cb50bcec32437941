import { tf } from "@lungflow/tf-runtime";

/**
 * ELU + 1: the variance activation of kdsb17 (always > 0, linear for x > 0). Computed as
 * `relu(x) + exp(min(x, 0))`, which equals `elu(x) + 1` exactly but keeps small variances
 * representable: float32 `elu(x) + 1` rounds to 0 for x < -17 (exp(x) - 1 + 1).
 */
export class ShiftedELU extends tf.layers.Layer {
  static readonly className = "ShiftedELU";

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      return tf.add(tf.relu(x), tf.exp(tf.minimum(x, 0)));
    });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getClassName(): string {
    return ShiftedELU.className;
  }
}

/** log-softmax over the last axis (the log-priors of the mixture): `x - logsumexp(x)`. */
export class LogSoftmax extends tf.layers.Layer {
  static readonly className = "LogSoftmax";

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => tf.logSoftmax(Array.isArray(inputs) ? inputs[0] : inputs, -1));
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getClassName(): string {
    return LogSoftmax.className;
  }
}

tf.serialization.registerClass(ShiftedELU);
tf.serialization.registerClass(LogSoftmax);

/** Options of {@link BatchNorm3D}. */
export interface BatchNorm3DArgs {
  name?: string;
  /** Moving-average momentum of the inference statistics (default 0.99, as Keras). */
  momentum?: number;
  /** Added to the variance (default 1e-3, as Keras). */
  epsilon?: number;
  trainable?: boolean;
}

/**
 * Batch normalisation over the channel (last) axis of 5D tensors [B, D, H, W, C]: tfjs-layers'
 * BatchNormalization cannot run on rank 5 ("not implemented for array of rank 5"). Training
 * normalises with the batch statistics and updates moving mean/variance; inference uses
 * the moving statistics. Weights: gamma, beta (trainable), moving_mean, moving_variance.
 */
export class BatchNorm3D extends tf.layers.Layer {
  static readonly className = "BatchNorm3D";
  readonly momentum: number;
  readonly epsilon: number;
  private gamma?: tf.LayerVariable;
  private beta?: tf.LayerVariable;
  private movingMean?: tf.LayerVariable;
  private movingVariance?: tf.LayerVariable;

  constructor(args: BatchNorm3DArgs = {}) {
    super(args);
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
    this.supportsMasking = true;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = shape[shape.length - 1] as number;
    this.gamma = this.addWeight("gamma", [c], "float32", tf.initializers.ones());
    this.beta = this.addWeight("beta", [c], "float32", tf.initializers.zeros());
    this.movingMean = this.addWeight(
      "moving_mean",
      [c],
      "float32",
      tf.initializers.zeros(),
      undefined,
      false,
    );
    this.movingVariance = this.addWeight(
      "moving_variance",
      [c],
      "float32",
      tf.initializers.ones(),
      undefined,
      false,
    );
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const gamma = this.gamma!.read();
    const beta = this.beta!.read();
    if (!kwargs?.training) {
      return tf.tidy(() => {
        const scale = tf.mul(gamma, tf.rsqrt(tf.add(this.movingVariance!.read(), this.epsilon)));
        const shift = tf.sub(beta, tf.mul(this.movingMean!.read(), scale));
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    const axes = x.shape.map((_, i) => i).slice(0, -1);
    const { mean, variance } = tf.moments(x, axes);
    const y = tf.add(
      tf.mul(tf.sub(x, mean), tf.mul(gamma, tf.rsqrt(tf.add(variance, this.epsilon)))),
      beta,
    );
    tf.tidy(() => {
      const mo = this.momentum;
      this.movingMean!.write(tf.add(tf.mul(this.movingMean!.read(), mo), tf.mul(mean, 1 - mo)));
      this.movingVariance!.write(
        tf.add(tf.mul(this.movingVariance!.read(), mo), tf.mul(variance, 1 - mo)),
      );
    });
    return y;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }

  override getClassName(): string {
    return BatchNorm3D.className;
  }
}

tf.serialization.registerClass(BatchNorm3D);
