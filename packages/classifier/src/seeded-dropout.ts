import { tf } from "@lungflow/tf-runtime";

export interface SeededDropoutArgs {
  rate: number;
  seed: number;
  name?: string;
}

/**
 * Dropout whose mask is a pure function of (seed, step): reproducible runs and exact resume.
 * tfjs's own `dropout({seed})` draws the same mask at every step, and without a seed it is
 * not reproducible; here the training loop sets `step` before each forward pass.
 */
export class SeededDropout extends tf.layers.Layer {
  static className = "SeededDropout";
  readonly rate: number;
  readonly seed: number;
  /** Set by the training loop; the mask of step s uses seed `seed * 1_000_003 + s`. */
  step = 0;

  constructor(args: SeededDropoutArgs) {
    super({ name: args.name });
    if (!(args.rate >= 0 && args.rate < 1))
      throw new RangeError(`SeededDropout: rate must be in [0, 1), got ${args.rate}`);
    this.rate = args.rate;
    this.seed = args.seed;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (!kwargs?.training || this.rate === 0) return tf.clone(x);
    return tf.tidy(() => {
      const keep = tf.cast(
        tf.greaterEqual(
          tf.randomUniform(
            x.shape,
            0,
            1,
            "float32",
            (this.seed * 1_000_003 + this.step) % 2147483647,
          ),
          this.rate,
        ),
        "float32",
      );
      return tf.mul(x, tf.mul(keep, 1 / (1 - this.rate)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);
