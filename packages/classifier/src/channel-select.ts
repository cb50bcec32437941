import { tf } from "@lungflow/tf-runtime";

export interface ChannelSelectArgs {
  /** First channel kept (negative: from the end, -1 = the last). */
  start: number;
  /** Channels kept. */
  size: number;
  name?: string;
}

/**
 * Keeps `size` channels of a `[B, D, H, W, C]` map from `start` (negative: counted from the
 * end). The head uses it to read only the density channel of `[encoder features, density]`.
 * Serialisable: models save and load it by class name.
 */
export class ChannelSelect extends tf.layers.Layer {
  static className = "ChannelSelect";
  readonly start: number;
  readonly size: number;

  constructor(args: ChannelSelectArgs) {
    super({ name: args.name, trainable: false });
    this.start = args.start;
    this.size = args.size;
  }

  private from(c: number): number {
    const s = this.start < 0 ? c + this.start : this.start;
    if (!(s >= 0 && s + this.size <= c))
      throw new RangeError(
        `ChannelSelect ${this.name}: channels ${this.start}+${this.size} of ${c} are out of range`,
      );
    return s;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = s[s.length - 1];
    if (c != null) this.from(c);
    return [...s.slice(0, -1), this.size];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const c = x.shape[x.rank - 1];
    const begin = x.shape.map(() => 0);
    begin[x.rank - 1] = this.from(c);
    const size = x.shape.map(() => -1);
    size[x.rank - 1] = this.size;
    return tf.slice(x, begin, size);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), start: this.start, size: this.size };
  }
}
tf.serialization.registerClass(ChannelSelect);
