/**
 * A fused Adam update for the `cpu` backend: `tf.train.adam`'s `applyGradients` runs ten
 * tensor ops per variable (each allocating and filling a fresh tensor the size of the
 * weights); with the native addon loaded it runs as one pass over each variable's memory
 * instead (`@lungflow/tfjs-conv3d-native`'s `adam`), in place.
 *
 * Same bits as tfjs's optimizer: the native loop does tfjs's float32 operations in tfjs's
 * order with tfjs's float32 constants (`1 - b1^t` is even computed by the same Sub kernel),
 * and the optimizer's state (moment variables named `<var>/m`, `<var>/v`, `accBeta1/2`,
 * the iteration count) is created and advanced exactly as tfjs does, so `getWeights`,
 * `setWeights` and saved optimizer state are unchanged. Anything it cannot do in place — a
 * non-cpu backend, a non-float32 variable, a variable or moment whose memory another tensor
 * shares (a clone or reshape still alive: writing in place would change it too) — runs
 * tfjs's own `applyGradients` for the whole call.
 */

import type { NativeAdam } from "@lungflow/tfjs-conv3d-native";
import * as tf from "@tensorflow/tfjs";
import { nativeFor } from "./native.js";

type NamedGradients = tf.NamedTensorMap | { name: string; tensor: tf.Tensor }[];
type ApplyGradients = (this: tf.AdamOptimizer, grads: NamedGradients) => void;

/** The fields of tfjs's AdamOptimizer that `applyGradients` uses (protected in its typings). */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  incrementIterations(): void;
}

interface CpuBackend {
  data: { get(id: object): { values?: unknown } | undefined };
  refCount(id: object): number;
}

let original: ApplyGradients | undefined;

/** Routes `tf.AdamOptimizer#applyGradients` through {@link fusedAdam}. Idempotent. */
export function patchAdam(): void {
  if (original !== undefined) return;
  const proto = tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients };
  const orig = proto.applyGradients;
  original = orig;
  proto.applyGradients = function (this: tf.AdamOptimizer, grads: NamedGradients) {
    if (!fusedAdam(this, grads)) orig.call(this, grads);
  };
}

/** Puts tfjs's own `applyGradients` back. */
export function unpatchAdam(): void {
  if (original === undefined) return;
  (tf.AdamOptimizer.prototype as unknown as { applyGradients: ApplyGradients }).applyGradients =
    original;
  original = undefined;
}

/** The float32 array a cpu tensor owns alone, or undefined (shared, other dtype or backend). */
function ownArray(b: CpuBackend, t: tf.Tensor): Float32Array | undefined {
  if (t.dtype !== "float32" || t.isDisposed || b.refCount(t.dataId) !== 1) return undefined;
  const v = b.data.get(t.dataId)?.values;
  return v instanceof Float32Array && v.length === t.size ? v : undefined;
}

/**
 * One Adam step with the native loop; false (nothing changed) when it does not apply and
 * tfjs's own update must run.
 */
export function fusedAdam(opt: tf.AdamOptimizer, grads: NamedGradients): boolean {
  const adam: NativeAdam | undefined = nativeFor(Number.POSITIVE_INFINITY)?.adam;
  if (adam === undefined || tf.getBackend() !== "cpu") return false;
  const s = opt as unknown as AdamState;
  const b = tf.backend() as unknown as CpuBackend;
  if (typeof b.refCount !== "function" || typeof b.data?.get !== "function") return false;
  const names = Array.isArray(grads) ? grads.map((g) => g.name) : Object.keys(grads);
  const registered = tf.engine().registeredVariables;
  // Check everything first: the update is all native or all tfjs's.
  const jobs: { i: number; value: tf.Variable; p: Float32Array; g?: Float32Array }[] = [];
  for (const [i, name] of names.entries()) {
    const value = registered[name];
    if (value === undefined) return false;
    const p = ownArray(b, value);
    if (p === undefined) return false;
    for (const acc of [s.accumulatedFirstMoment[i], s.accumulatedSecondMoment[i]])
      if (
        acc != null &&
        (acc.variable.size !== value.size || ownArray(b, acc.variable) === undefined)
      )
        return false;
    const grad = Array.isArray(grads) ? grads[i].tensor : grads[name];
    if (grad == null) {
      jobs.push({ i, value, p });
      continue;
    }
    if (grad.dtype !== "float32" || grad.size !== value.size) return false;
    const g = b.data.get(grad.dataId)?.values;
    if (!(g instanceof Float32Array) || g.length !== value.size) return false;
    jobs.push({ i, value, p, g });
  }
  tf.tidy(() => {
    // tfjs's Sub kernel makes 1 - b^t, as tfjs's update does.
    const acc1 = tf.sub(1, s.accBeta1).dataSync()[0];
    const acc2 = tf.sub(1, s.accBeta2).dataSync()[0];
    const f = Math.fround;
    const consts = Float32Array.from([
      f(s.beta1),
      f(1 - s.beta1),
      f(s.beta2),
      f(1 - s.beta2),
      acc1,
      acc2,
      f(s.epsilon),
      f(-s.learningRate),
    ]);
    for (const { i, value, p, g } of jobs) {
      const name = names[i];
      // Created as tfjs creates them (even for a variable without a gradient this step).
      s.accumulatedFirstMoment[i] ??= {
        originalName: `${name}/m`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      s.accumulatedSecondMoment[i] ??= {
        originalName: `${name}/v`,
        variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
      };
      if (g === undefined) continue; // no gradient: tfjs skips the variable
      const m = b.data.get(s.accumulatedFirstMoment[i].variable.dataId)?.values as Float32Array;
      const v = b.data.get(s.accumulatedSecondMoment[i].variable.dataId)?.values as Float32Array;
      adam(p, m, v, g, consts);
    }
    s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
    s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
  });
  s.incrementIterations();
  return true;
}
