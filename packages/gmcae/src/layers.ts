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
