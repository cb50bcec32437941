import fs from "node:fs/promises";
import path from "node:path";
import { loadModel, loadTensors, saveModel, saveTensors, tf } from "@lungflow/tf-runtime";
import { elementsOf } from "./elements-of.js";
import { ClassifierError } from "./errors.js";
import { fitFeatureStandardization } from "./feature-standardization.js";
import { binaryReport, PROBABILITY_EPS } from "./metrics.js";
import { SeededDropout } from "./seeded-dropout.js";

/** One training or validation element: a whole volume `[1, Z, Y, X, C]` and its label `[1, 1]`. */
export type LabelledVolume = {
  id?: string;
  xs: tf.Tensor;
  ys: tf.Tensor;
};

/**
 * The data of one epoch (0-based) as a tf.data dataset, e.g. the pipeline's `volumeDataset`
 * or `featureDataset` `.forEpoch(epoch)`. The loop disposes every tensor it receives.
 */
export type VolumeSource = (
  epoch: number,
) => tf.data.Dataset<LabelledVolume> | Promise<tf.data.Dataset<LabelledVolume>>;

export interface ClassifierTrainOptions {
  /** From `buildClassifier` (or a loaded checkpoint when resuming). */
  model: tf.LayersModel;
  train: VolumeSource;
  validation?: VolumeSource;
  /** Run directory: log.csv, epochs.csv, best/, last/, state.json. */
  outDir: string;
  epochs: number;
  /** Adam learning rate (default 1e-4, as kdsb17). */
  learningRate?: number;
  /** Clip gradients to this global L2 norm (default 1; 0 turns clipping off). */
  clipNorm?: number;
  /**
   * Patients per optimiser step (default 1): the gradients of this many volumes are averaged
   * before Adam applies them (volumes differ in size, so they cannot share one tensor). With
   * one patient per step Adam's per-weight normalisation moves the logit by about
   * `lr * sum |x|` towards that patient's label at every step, so the output swings with the
   * order of the labels instead of converging.
   */
  batchSize?: number;
  /** Loss weights of the negative and positive class (default [1, 1]). */
  classWeight?: [number, number];
  /** Stop when validation log loss has not improved for this many epochs (default 10). */
  patience?: number;
  /** Continue from `outDir/last` (weights, Adam state, epoch, best score). */
  resume?: boolean;
  onStep?: (s: { epoch: number; step: number; loss: number }) => void;
  onEpoch?: (e: EpochRecord) => void;
  signal?: AbortSignal;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valAccuracy: number;
  valAuc: number;
  seconds: number;
  best: boolean;
}

export interface TrainResult {
  /** The trained model (a new object when the run was resumed from a checkpoint). */
  model: tf.LayersModel;
  epochs: EpochRecord[];
  bestEpoch: number;
  bestValLoss: number;
  stoppedEarly: boolean;
}

interface RunState {
  epoch: number;
  step: number;
  bestValLoss: number;
  bestEpoch: number;
  wait: number;
}

/**
 * Trains the classifier with a custom loop: weighted binary cross-entropy, Adam, gradient
 * clipping by global norm, validation log loss / accuracy / ROC AUC each epoch, the best
 * checkpoint by validation log loss, early stopping, and exact resume. A non-finite loss stops
 * the run with `NON_FINITE_LOSS`, leaving the last good checkpoints untouched.
 */
export async function trainClassifier(o: ClassifierTrainOptions): Promise<TrainResult> {
  const lr = o.learningRate ?? 1e-4;
  const clipNorm = o.clipNorm ?? 1;
  const [w0, w1] = o.classWeight ?? [1, 1];
  const patience = o.patience ?? 10;
  const batchSize = o.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new ClassifierError(
      "BAD_CONFIG",
      `batchSize must be a positive integer, got ${batchSize}`,
    );
  await fs.mkdir(o.outDir, { recursive: true });
  const lastDir = path.join(o.outDir, "last");
  const bestDir = path.join(o.outDir, "best");
  const optimizer = tf.train.adam(lr);
  let model = o.model;
  let state: RunState = {
    epoch: 0,
    step: 0,
    bestValLoss: Number.POSITIVE_INFINITY,
    bestEpoch: -1,
    wait: 0,
  };
  const history: EpochRecord[] = [];
  const saved = o.resume ? await readCheckpointState(lastDir) : undefined;
  if (saved) {
    model = await loadModel(saved.dir);
    await optimizer.setWeights(await loadTensors(saved.dir, "optimizer"));
    state = saved.state;
    // logs may run ahead of the checkpoint if a crash came between the two: cut them back
    history.push(...(await truncateLogs(o.outDir, state.epoch)));
  } else {
    // standardisation statistics come from the training features, before any weight moves
    await fitFeatureStandardization(model, o.train(0));
    await fs.writeFile(path.join(o.outDir, "log.csv"), "epoch,step,loss\n");
    await fs.writeFile(path.join(o.outDir, "epochs.csv"), EPOCHS_HEADER);
  }
  const dropouts = model.layers.filter((l): l is SeededDropout => l instanceof SeededDropout);
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  let stoppedEarly = false;
  // Gradient sums of the patients since the last optimiser step.
  let sums: tf.NamedTensorMap | undefined;
  let pending = 0;
  const accumulate = (grads: tf.NamedTensorMap) => {
    const prev = sums;
    sums = {};
    for (const k of Object.keys(grads))
      sums[k] = tf.keep(prev ? tf.add(prev[k], grads[k]) : tf.clone(grads[k]));
    if (prev) tf.dispose(Object.values(prev));
    pending++;
  };
  const applyPending = () => {
    const g = sums as tf.NamedTensorMap;
    tf.tidy(() => {
      const mean: tf.NamedTensorMap = {};
      for (const k of Object.keys(g)) mean[k] = tf.div(g[k], pending);
      optimizer.applyGradients(
        (clipNorm > 0 ? clipByGlobalNorm(mean, clipNorm) : mean) as Parameters<
          typeof optimizer.applyGradients
        >[0],
      );
    });
    tf.dispose(Object.values(g));
    sums = undefined;
    pending = 0;
  };

  for (let epoch = state.epoch; epoch < o.epochs; epoch++) {
    const t0 = performance.now();
    let lossSum = 0;
    let n = 0;
    const logRows: string[] = [];
    for await (const el of elementsOf(o.train(epoch))) {
      o.signal?.throwIfAborted();
      for (const d of dropouts) d.step = state.step;
      const loss = tf.tidy(() => {
        const { value, grads } = tf.variableGrads(
          () => weightedBce(model, el.xs, el.ys, w0, w1),
          vars,
        );
        accumulate(grads);
        return value;
      });
      if (pending === batchSize) applyPending();
      const v = (await loss.data())[0];
      loss.dispose();
      el.xs.dispose();
      el.ys.dispose();
      if (!Number.isFinite(v)) {
        throw new ClassifierError(
          "NON_FINITE_LOSS",
          `training loss became ${v} at epoch ${epoch + 1} step ${state.step}; the last good checkpoint is in ${lastDir}`,
          {
            epoch,
            step: state.step,
            id: el.id,
          },
        );
      }
      lossSum += v;
      n++;
      logRows.push(`${epoch + 1},${state.step},${v}`);
      o.onStep?.({ epoch, step: state.step, loss: v });
      state.step++;
    }
    if (pending > 0) applyPending();
    if (n === 0) throw new ClassifierError("NO_DATA", `no training volumes in epoch ${epoch + 1}`);
    const val = o.validation ? await evaluateSource(model, o.validation(epoch)) : undefined;
    const valLoss = val?.logLoss ?? lossSum / n;
    const best = valLoss < state.bestValLoss;
    const rec: EpochRecord = {
      epoch: epoch + 1,
      trainLoss: lossSum / n,
      valLoss: val ? val.logLoss : Number.NaN,
      valAccuracy: val ? val.accuracy : Number.NaN,
      valAuc: val ? val.auc : Number.NaN,
      seconds: (performance.now() - t0) / 1000,
      best,
    };
    if (best) {
      state.bestValLoss = valLoss;
      state.bestEpoch = epoch + 1;
      state.wait = 0;
      await commitDir(bestDir, (tmp) => saveModel(model, tmp));
    } else {
      state.wait++;
    }
    state.epoch = epoch + 1;
    // last/ (weights + Adam state + run state) is written to a staging folder and renamed
    // into place, so a crash leaves either the previous or the new checkpoint, never a mix.
    const optState = await optimizer.getWeights();
    await commitDir(lastDir, async (tmp) => {
      await saveModel(model, tmp);
      await saveTensors(tmp, "optimizer", optState);
      await fs.writeFile(path.join(tmp, "state.json"), JSON.stringify(state, null, 2));
    });
    await fs.appendFile(path.join(o.outDir, "log.csv"), logRows.join("\n") + "\n");
    await fs.appendFile(path.join(o.outDir, "epochs.csv"), epochRow(rec));
    history.push(rec);
    o.onEpoch?.(rec);
    if (state.wait >= patience) {
      stoppedEarly = true;
      break;
    }
  }
  return {
    model,
    epochs: history,
    bestEpoch: state.bestEpoch,
    bestValLoss: state.bestValLoss,
    stoppedEarly,
  };
}

/** Mean class-weighted binary cross-entropy of the model's (training-mode) output. */
function weightedBce(
  model: tf.LayersModel,
  xs: tf.Tensor,
  ys: tf.Tensor,
  w0: number,
  w1: number,
): tf.Scalar {
  const p = tf.clipByValue(
    model.apply(xs, { training: true }) as tf.Tensor,
    PROBABILITY_EPS,
    1 - 1e-7,
  );
  const y = tf.cast(ys, "float32");
  const ll = tf.add(tf.mul(y, tf.log(p)), tf.mul(tf.sub(1, y), tf.log(tf.sub(1, p))));
  const w = tf.add(tf.mul(y, w1), tf.mul(tf.sub(1, y), w0));
  return tf.neg(tf.mean(tf.mul(w, ll))) as tf.Scalar;
}

/** Scales all gradients by min(1, maxNorm / globalNorm) (Keras `clipnorm` over all tensors). */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): tf.NamedTensorMap {
  return tf.tidy(() => {
    const names = Object.keys(grads);
    const sq = tf.addN(names.map((k) => tf.sum(tf.square(grads[k]))));
    const norm = tf.sqrt(sq);
    const scale = tf.minimum(1, tf.div(maxNorm, tf.maximum(norm, 1e-12)));
    const out: tf.NamedTensorMap = {};
    for (const k of names) out[k] = tf.mul(grads[k], scale);
    return out;
  });
}

/** Probabilities for every element of a source (inference mode), with their labels and ids. */
export async function predictSource(
  model: tf.LayersModel,
  source: tf.data.Dataset<LabelledVolume> | Promise<tf.data.Dataset<LabelledVolume>>,
): Promise<{ ids: string[]; labels: number[]; probs: number[] }> {
  const ids: string[] = [];
  const labels: number[] = [];
  const probs: number[] = [];
  for await (const el of elementsOf(source)) {
    const p = tf.tidy(() => model.predict(el.xs) as tf.Tensor);
    probs.push((await p.data())[0]);
    labels.push((await el.ys.data())[0]);
    ids.push(el.id ?? String(ids.length));
    p.dispose();
    el.xs.dispose();
    el.ys.dispose();
  }
  return { ids, labels, probs };
}

async function evaluateSource(
  model: tf.LayersModel,
  source: tf.data.Dataset<LabelledVolume> | Promise<tf.data.Dataset<LabelledVolume>>,
) {
  const { labels, probs } = await predictSource(model, source);
  if (labels.length === 0) throw new ClassifierError("NO_DATA", "no validation volumes");
  return binaryReport(labels, probs);
}

async function readCheckpointState(
  dir: string,
): Promise<{ state: RunState; dir: string } | undefined> {
  for (const d of [dir, `${dir}.old`]) {
    try {
      return {
        state: JSON.parse(await fs.readFile(path.join(d, "state.json"), "utf8")) as RunState,
        dir: d,
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        throw new ClassifierError(
          "CHECKPOINT_NOT_FOUND",
          `cannot read ${path.join(d, "state.json")}`,
          { dir: d },
          { cause: err },
        );
      }
    }
  }
  return undefined;
}

/**
 * Writes a checkpoint folder atomically: `fill` writes into `<dir>.tmp`, then the old folder
 * moves to `<dir>.old`, the new one into place, and the old one is removed. A reader that
 * finds no `<dir>` uses `<dir>.old`.
 */
export async function commitDir(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = `${dir}.tmp`;
  const old = `${dir}.old`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  await fill(tmp);
  await fs.rm(old, { recursive: true, force: true });
  await fs.rename(dir, old).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  await fs.rename(tmp, dir);
  await fs.rm(old, { recursive: true, force: true });
}

async function truncateLogs(dir: string, epochs: number): Promise<EpochRecord[]> {
  const recs = (await readEpochs(dir)).filter((r) => r.epoch <= epochs);
  await fs.writeFile(path.join(dir, "epochs.csv"), EPOCHS_HEADER + recs.map(epochRow).join(""));
  const log = await fs.readFile(path.join(dir, "log.csv"), "utf8").catch(() => "epoch,step,loss\n");
  const rows = log
    .split("\n")
    .filter((l, i) => i === 0 || (l.length > 0 && Number(l.split(",")[0]) <= epochs));
  await fs.writeFile(path.join(dir, "log.csv"), rows.join("\n") + "\n");
  return recs;
}

const EPOCHS_HEADER = "epoch,train_loss,val_loss,val_accuracy,val_auc,seconds,best\n";

function epochRow(r: EpochRecord): string {
  return `${r.epoch},${r.trainLoss},${r.valLoss},${r.valAccuracy},${r.valAuc},${r.seconds.toFixed(3)},${r.best ? 1 : 0}\n`;
}

/** Epoch records of a run directory (for resume, reports and plots). */
export async function readEpochs(dir: string): Promise<EpochRecord[]> {
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, "epochs.csv"), "utf8");
  } catch {
    return [];
  }
  return text
    .trim()
    .split("\n")
    .slice(1)
    .filter((l) => l.length > 0)
    .map((l) => {
      const [epoch, trainLoss, valLoss, valAccuracy, valAuc, seconds, best] = l
        .split(",")
        .map(Number);
      return { epoch, trainLoss, valLoss, valAccuracy, valAuc, seconds, best: best === 1 };
    });
}
