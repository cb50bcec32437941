import { tf } from "@lungflow/tf-runtime";
import { GmcaeError } from "./errors.js";

/** Options of {@link gmmNll}. */
export interface GmmNllOptions {
  /** Variances below this are raised to it (normalised units squared). Default 1e-6. */
  varianceFloor?: number;
}

const LOG_2PI = Math.log(2 * Math.PI);
/** Component log-densities are clamped here: finite, and exp() of it is 0 in float32. */
const Z_MIN = -1e30;

/**
 * Per-patch negative log-likelihood of `yTrue` [B, c] under the Gaussian mixture given by
 * `yPred` [B, 2m + c*m] (kdsb17's `build_gmd_log_likelihood` layout): m log-priors, m
 * variances, then the means voxel-major (`yPred[b, 2m + v*m + k]` is the mean of
 * component k at voxel v, the flattened [D, D, D, m] means conv). Each component is an
 * isotropic Gaussian over the whole patch:
 *
 *   z_k = log a_k - (c/2) log(2 pi s2_k) - |t - mu_k|^2 / (2 s2_k)
 *   NLL = -logsumexp_k z_k
 *
 * Priors and normalising constants sit inside the exp, so the logsumexp (which subtracts
 * the max) never under/overflows. Stable in float32: variances are floored, `z` is clamped
 * to a finite minimum (huge distances give a huge finite loss, never NaN). Returns [B].
 */
export function gmmNllPerPatch(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  m: number,
  opts: GmmNllOptions = {},
): tf.Tensor1D {
  const floor = opts.varianceFloor ?? 1e-6;
  return tf.tidy(() => {
    const [b, c] = yTrue.shape as [number, number];
    if (yPred.shape[1] !== m * (c + 2)) {
      throw new GmcaeError(
        "BAD_MODEL",
        `gmmNll: yPred has ${yPred.shape[1]} columns, expected m*(c+2) = ${m * (c + 2)} (m=${m}, c=${c})`,
        { columns: yPred.shape[1], expected: m * (c + 2), m, c },
      );
    }
    const logPrior = tf.slice(yPred, [0, 0], [b, m]);
    const variance = tf.maximum(tf.slice(yPred, [0, m], [b, m]), floor);
    const mu = tf.reshape(tf.slice(yPred, [0, 2 * m], [b, c * m]), [b, c, m]);
    const diff = tf.sub(tf.reshape(yTrue, [b, c, 1]), mu);
    const sq = tf.sum(tf.square(diff), 1); // [b, m]
    const z = tf.sub(
      tf.sub(logPrior, tf.mul(c / 2, tf.add(LOG_2PI, tf.log(variance)))),
      tf.div(sq, tf.mul(2, variance)),
    );
    const zc = tf.maximum(z, Z_MIN);
    return tf.neg(tf.logSumExp(zc, 1)) as tf.Tensor1D;
  });
}

/**
 * The training loss: mean over the batch of the per-patch NLL divided by the number of
 * voxels c (nats per voxel, comparable across patch sizes; kdsb17 used the per-patch sum).
 */
export function gmmNll(
  yTrue: tf.Tensor,
  yPred: tf.Tensor,
  m: number,
  opts: GmmNllOptions = {},
): tf.Scalar {
  return tf.tidy(
    () =>
      tf.div(tf.mean(gmmNllPerPatch(yTrue, yPred, m, opts)), yTrue.shape[1] as number) as tf.Scalar,
  );
}
