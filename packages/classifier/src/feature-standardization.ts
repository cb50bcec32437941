import { tf } from "@lungflow/tf-runtime";
import { elementsOf } from "./elements-of.js";

export interface FeatureStandardizationArgs {
  /** Whether `mean` and `scale` hold fitted statistics (set by {@link fitFeatureStandardization}). */
  fitted?: boolean;
  name?: string;
}

/**
 * `FeatureStandardization`: `y = (x - mean) * scale` per channel of a `[B, D, H, W, C]` map,
 * with `mean` and `scale = 1 / std` fitted once on the training features and then fixed
 * (non-trainable weights, saved with the model). The GMCAE encoder's ReLU channels have
 * large offsets (means 0.1-0.7) and differ in spread by 10x; a nodule shows as a small
 * deviation from those offsets, which a detector conv on the raw values drowns in the
 * offsets. Serialisable: models save and load it by class name.
 */
export class FeatureStandardization extends tf.layers.Layer {
  static className = "FeatureStandardization";
  fitted: boolean;
  private mean?: tf.LayerVariable;
  private scale?: tf.LayerVariable;

  constructor(args: FeatureStandardizationArgs = {}) {
    super({ name: args.name, trainable: false });
    this.fitted = args.fitted ?? false;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const c = s[s.length - 1];
    if (c == null) throw new RangeError("FeatureStandardization needs a known channel count");
    this.mean = this.addWeight("mean", [c], "float32", tf.initializers.zeros(), undefined, false);
    this.scale = this.addWeight("scale", [c], "float32", tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    return tf.tidy(() =>
      tf.mul(
        tf.sub(x, (this.mean as tf.LayerVariable).read()),
        (this.scale as tf.LayerVariable).read(),
      ),
    );
  }

  /** Sets the statistics (per channel) and marks the layer fitted. */
  setStatistics(mean: ArrayLike<number>, std: ArrayLike<number>): void {
    const m = Float32Array.from(mean);
    const sc = Float32Array.from(std, (s) => 1 / Math.max(s, 1e-3));
    this.setWeights([tf.tensor1d(m), tf.tensor1d(sc)]);
    this.fitted = true;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), fitted: this.fitted };
  }
}
tf.serialization.registerClass(FeatureStandardization);

/**
 * Fits every unfitted {@link FeatureStandardization} layer of `model` on the volumes of
 * `source` (one pass, inference mode): per-channel mean and standard deviation over every
 * voxel of every volume of the layer's input. Returns the number of layers fitted.
 */
export async function fitFeatureStandardization(
  model: tf.LayersModel,
  source:
    | tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }>
    | Promise<tf.data.Dataset<{ xs: tf.Tensor; ys: tf.Tensor }>>,
): Promise<number> {
  const layers = model.layers.filter(
    (l): l is FeatureStandardization => l instanceof FeatureStandardization && !l.fitted,
  );
  if (layers.length === 0) return 0;
  const probes = layers.map((l) =>
    tf.model({ inputs: model.inputs, outputs: l.input as tf.SymbolicTensor }),
  );
  const sums = layers.map(() => ({ s: [] as number[], q: [] as number[], n: 0 }));
  for await (const el of elementsOf(source)) {
    for (let k = 0; k < layers.length; k++) {
      const [s, q, n] = tf.tidy(() => {
        const f = probes[k].predict(el.xs) as tf.Tensor;
        const c = f.shape[f.shape.length - 1] as number;
        const flat = tf.reshape(f, [-1, c]);
        return [tf.sum(flat, 0), tf.sum(tf.square(flat), 0), flat.shape[0]] as const;
      });
      const sv = Array.from(await s.data(), Number);
      const qv = Array.from(await q.data(), Number);
      s.dispose();
      q.dispose();
      const acc = sums[k];
      sv.forEach((v, j) => {
        acc.s[j] = (acc.s[j] ?? 0) + v;
      });
      qv.forEach((v, j) => {
        acc.q[j] = (acc.q[j] ?? 0) + v;
      });
      acc.n += n as number;
    }
    el.xs.dispose();
    el.ys.dispose();
  }
  layers.forEach((l, k) => {
    const { s, q, n } = sums[k];
    if (n === 0) return;
    const mean = s.map((v) => v / n);
    const std = q.map((v, j) => Math.sqrt(Math.max(v / n - mean[j] * mean[j], 0)));
    l.setStatistics(mean, std);
  });
  return layers.filter((l) => l.fitted).length;
}
