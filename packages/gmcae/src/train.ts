import fs from "node:fs/promises";
import path from "node:path";
import { tf } from "@lungflow/tf-runtime";
import { copyCheckpoint, readCheckpoint, type TrainState, writeCheckpoint } from "./checkpoint.js";
import { type GmcaeConfig, parseRunConfig, type RunConfig, type TrainConfig } from "./config.js";
import { type Batch, type DataInput, openSource } from "./data-source.js";
import { GmcaeError } from "./errors.js";
import { gmmNll } from "./loss.js";
import { buildGmcae, type Gmcae } from "./model.js";
import { RunRng } from "./rng.js";

/** Reported after every optimizer step. */
export interface BatchEvent {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  globalStep: number;
  loss: number;
  gradNorm: number;
  /** Factor applied to the gradients by norm clipping (1 = not clipped). */
  clipScale: number;
  ms: number;
}

/** Reported after every epoch (and written to epochs.csv). */
export interface EpochEvent {
  epoch: number;
  epochs: number;
  trainLoss: number;
  valLoss: number;
  bestValLoss: number;
  improved: boolean;
  seconds: number;
  steps: number;
}

export type TrainStatus = "completed" | "early-stopped" | "non-finite" | "aborted";

export interface TrainResult {
  status: TrainStatus;
  /** A one-line account of how the run ended. */
  message: string;
  epochs: EpochEvent[];
  /** Every step's loss, in order, for this invocation. */
  losses: number[];
  bestValLoss: number | null;
  bestEpoch: number;
  /** The model as trained (after a non-finite stop: as in the last good checkpoint). */
  gmcae: Gmcae;
  runDir: string;
}

export interface TrainGmcaeOptions {
  /** Run directory: config.json, log.csv, epochs.csv, last/, best/. */
  outDir: string;
  /** Run configuration (`{ model, train }`, validated; defaults filled). Ignored on resume except `train.epochs`. */
  config?: { model?: Partial<GmcaeConfig>; train?: Partial<TrainConfig> };
  /** Training batches (see `DataInput`). */
  data: DataInput;
  /** Validation batches; without it the best checkpoint is chosen by training loss. */
  validation?: DataInput;
  /** Continue from `outDir/last` (weights, Adam state, epoch, RNG state). */
  resume?: boolean;
  onBatch?: (e: BatchEvent) => void;
  onEpoch?: (e: EpochEvent) => void;
  /** Stops after the current step; the last epoch's checkpoint stays. */
  signal?: AbortSignal;
}

type GradMap = Parameters<tf.AdamOptimizer["applyGradients"]>[0];

const LOG_HEADER = "epoch,step,global_step,loss,grad_norm,clip_scale,ms\n";
const EPOCHS_HEADER = "epoch,train_loss,val_loss,best_val_loss,improved,seconds\n";

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

/** Keeps the CSV rows of epochs <= `upTo` (what a resumed run re-creates after them). */
async function truncateCsv(file: string, header: string, upTo: number): Promise<void> {
  const text = (await fs.readFile(file, "utf8").catch(() => header)) || header;
  const lines = text.split("\n").filter((l) => l.length > 0);
  const kept = lines.slice(1).filter((l) => Number(l.split(",")[0]) <= upTo);
  await fs.writeFile(file, header + kept.map((l) => `${l}\n`).join(""));
}

function toYs(b: Batch, d: number): tf.Tensor2D {
  const n = b.xs.shape[0];
  const c = d * d * d;
  if (b.xs.shape.length !== 5 || b.xs.shape.slice(1).join() !== [d, d, d, 1].join()) {
    throw new GmcaeError(
      "BAD_BATCH",
      `batch xs has shape [${b.xs.shape}], expected [B, ${d}, ${d}, ${d}, 1]`,
      {
        shape: b.xs.shape,
      },
    );
  }
  if (b.ys !== undefined && (b.ys.shape[0] !== n || b.ys.size !== n * c)) {
    throw new GmcaeError("BAD_BATCH", `batch ys has shape [${b.ys.shape}], expected [${n}, ${c}]`, {
      shape: b.ys.shape,
    });
  }
  return tf.reshape(b.ys ?? b.xs, [n, c]);
}

function disposeBatch(b: Batch): void {
  b.xs.dispose();
  b.ys?.dispose();
}

/**
 * Trains a GMCAE with a custom loop: Adam, gradient clipping by global norm, `stepsPerEpoch`
 * training and `validationSteps` validation batches per epoch, per-batch (log.csv) and
 * per-epoch (epochs.csv) logs, `last/` after every epoch and `best/` on a better validation
 * loss, early stopping after `patience` epochs without improvement, and a stop on NaN/Inf
 * (no update applied, the last good checkpoint kept). Resume continues bit-identically: the
 * same losses as an uninterrupted run with the same seed and data.
 *
 * Data: with a factory `(ctx) => source` each epoch gets a fresh source and a seed from the
 * run RNG; with a plain source (Dataset / iterable) batches are pulled from one iterator
 * across epochs (Keras semantics), and a resumed run first skips the batches the completed
 * epochs consumed, so a deterministic source replays the same stream.
 */
export async function trainGmcae(opts: TrainGmcaeOptions): Promise<TrainResult> {
  const runDir = opts.outDir;
  const lastDir = path.join(runDir, "last");
  const bestDir = path.join(runDir, "best");
  const logCsv = path.join(runDir, "log.csv");
  const epochsCsv = path.join(runDir, "epochs.csv");
  const configFile = path.join(runDir, "config.json");

  let run: RunConfig;
  let gmcae: Gmcae;
  let state: TrainState;
  let optimizer: tf.AdamOptimizer;
  if (opts.resume) {
    if (!(await exists(path.join(lastDir, "state.json")))) {
      throw new GmcaeError(
        "BAD_CHECKPOINT",
        `cannot resume: ${lastDir} has no checkpoint (state.json)`,
        { dir: lastDir },
      );
    }
    const saved = JSON.parse(await fs.readFile(configFile, "utf8")) as RunConfig;
    run = parseRunConfig(saved, configFile);
    if (opts.config?.train?.epochs !== undefined) run.train.epochs = opts.config.train.epochs;
    optimizer = tf.train.adam(
      run.train.learningRate,
      run.train.beta1,
      run.train.beta2,
      run.train.epsilon,
    );
    ({ gmcae, state } = await readCheckpoint(lastDir, optimizer));
    await truncateCsv(logCsv, LOG_HEADER, state.epoch);
    await truncateCsv(epochsCsv, EPOCHS_HEADER, state.epoch);
  } else {
    if (await exists(lastDir)) {
      throw new GmcaeError(
        "BAD_CHECKPOINT",
        `${runDir} already holds a run (last/); resume it or choose another output directory`,
        { dir: runDir },
      );
    }
    run = parseRunConfig(opts.config ?? {}, "config");
    await fs.mkdir(runDir, { recursive: true });
    await fs.writeFile(configFile, `${JSON.stringify(run, null, 2)}\n`);
    await fs.writeFile(logCsv, LOG_HEADER);
    await fs.writeFile(epochsCsv, EPOCHS_HEADER);
    gmcae = buildGmcae(run.model);
    optimizer = tf.train.adam(
      run.train.learningRate,
      run.train.beta1,
      run.train.beta2,
      run.train.epsilon,
    );
    state = {
      format: "lungflow-gmcae-state",
      epoch: 0,
      globalStep: 0,
      rng: new RunRng(run.train.seed).state(),
      bestValLoss: null,
      bestEpoch: 0,
      epochsSinceBest: 0,
    };
    // A checkpoint of the initial weights: even a NaN in epoch 1 leaves a usable last/.
    await writeCheckpoint(lastDir, gmcae, optimizer, state);
  }

  const t = run.train;
  const m = gmcae.config.m;
  const d = gmcae.config.patchSize;
  const rng = new RunRng(state.rng);
  const vars = gmcae.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const epochs: EpochEvent[] = [];
  const losses: number[] = [];

  const finish = async (status: TrainStatus, message: string): Promise<TrainResult> => {
    return {
      status,
      message,
      epochs,
      losses,
      bestValLoss: state.bestValLoss,
      bestEpoch: state.bestEpoch,
      gmcae,
      runDir,
    };
  };
  for (let epoch = state.epoch + 1; epoch <= t.epochs; epoch++) {
    const t0 = performance.now();
    const epochSeed = rng.nextUint32();
    const it = await openSource(await opts.data({ epoch, seed: epochSeed, role: "train" }));
    let sum = 0;
    let steps = 0;
    let logRows = "";
    for (let step = 1; step <= t.stepsPerEpoch; step++) {
      if (opts.signal?.aborted) {
        await fs.appendFile(logCsv, logRows);
        return await finish(
          "aborted",
          `aborted in epoch ${epoch}; ${lastDir} holds epoch ${state.epoch}`,
        );
      }
      const batch = await it.next();
      if (!batch) {
        if (steps === 0) {
          throw new GmcaeError(
            "NO_DATA",
            `the training data ended before step 1 of epoch ${epoch}`,
            { epoch },
          );
        }
        break;
      }
      const s0 = performance.now();
      let lossValue: number;
      let gradNorm: number;
      let clipScale = 1;
      try {
        const ys = toYs(batch, d);
        const { value, grads } = tf.variableGrads(
          () =>
            gmmNll(ys, gmcae.model.apply(batch.xs, { training: true }) as tf.Tensor, m, {
              varianceFloor: t.varianceFloor,
            }),
          vars,
        );
        ys.dispose();
        lossValue = value.dataSync()[0];
        value.dispose();
        const names = Object.keys(grads);
        gradNorm = tf.tidy(() =>
          Math.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(grads[n])))).dataSync()[0]),
        );
        if (!Number.isFinite(lossValue) || !Number.isFinite(gradNorm)) {
          tf.dispose(grads);
          await fs.appendFile(logCsv, logRows);
          const what = Number.isFinite(lossValue)
            ? `gradient norm became ${gradNorm}`
            : `loss became ${lossValue}`;
          const keep = await loadLastGood(lastDir, optimizer);
          if (keep) gmcae = keep;
          return await finish(
            "non-finite",
            `${what} at epoch ${epoch} step ${step} (global step ${state.globalStep + 1}); no update applied, training stopped. Last good checkpoint: ${lastDir} (epoch ${state.epoch}). Try a lower learningRate or clipNorm, or check the data for NaN.`,
          );
        }
        if (t.clipNorm > 0 && gradNorm > t.clipNorm) clipScale = t.clipNorm / gradNorm;
        if (clipScale < 1) {
          const scaled: tf.NamedTensorMap = {};
          for (const n of names) scaled[n] = tf.mul(grads[n], clipScale);
          tf.dispose(grads);
          optimizer.applyGradients(scaled as GradMap);
          tf.dispose(scaled);
        } else {
          optimizer.applyGradients(grads as GradMap);
          tf.dispose(grads);
        }
      } finally {
        disposeBatch(batch);
      }
      state.globalStep++;
      steps++;
      sum += lossValue;
      losses.push(lossValue);
      const ms = performance.now() - s0;
      logRows += `${epoch},${step},${state.globalStep},${lossValue},${gradNorm},${clipScale},${ms.toFixed(1)}\n`;
      opts.onBatch?.({
        epoch,
        step,
        stepsPerEpoch: t.stepsPerEpoch,
        globalStep: state.globalStep,
        loss: lossValue,
        gradNorm,
        clipScale,
        ms,
      });
    }
    await fs.appendFile(logCsv, logRows);
    await it.close();
    const trainLoss = sum / steps;

    let valLoss = trainLoss;
    if (opts.validation !== undefined && t.validationSteps > 0) {
      valLoss = await validate(opts.validation, gmcae, t, epoch);
    }
    if (!Number.isFinite(valLoss)) {
      const keep = await loadLastGood(lastDir, optimizer);
      if (keep) gmcae = keep;
      return await finish(
        "non-finite",
        `validation loss became ${valLoss} after epoch ${epoch}; training stopped. Last good checkpoint: ${lastDir} (epoch ${state.epoch}).`,
      );
    }
    const improved = state.bestValLoss === null || valLoss < state.bestValLoss;
    state.epoch = epoch;
    state.rng = rng.state();
    if (improved) {
      state.bestValLoss = valLoss;
      state.bestEpoch = epoch;
      state.epochsSinceBest = 0;
    } else {
      state.epochsSinceBest++;
    }
    await writeCheckpoint(lastDir, gmcae, optimizer, state);
    if (improved) await copyCheckpoint(lastDir, bestDir);
    const ev: EpochEvent = {
      epoch,
      epochs: t.epochs,
      trainLoss,
      valLoss,
      bestValLoss: state.bestValLoss!,
      improved,
      seconds: (performance.now() - t0) / 1000,
      steps,
    };
    epochs.push(ev);
    await fs.appendFile(
      epochsCsv,
      `${epoch},${trainLoss},${valLoss},${state.bestValLoss},${improved ? 1 : 0},${ev.seconds.toFixed(2)}\n`,
    );
    opts.onEpoch?.(ev);
    if (t.patience > 0 && state.epochsSinceBest >= t.patience) {
      return await finish(
        "early-stopped",
        `early stop after epoch ${epoch}: no better validation loss for ${t.patience} epochs (best ${state.bestValLoss} at epoch ${state.bestEpoch})`,
      );
    }
  }
  return finish(
    "completed",
    `completed ${state.epoch} epochs; best validation loss ${state.bestValLoss} at epoch ${state.bestEpoch}`,
  );
}

async function validate(
  input: DataInput,
  gmcae: Gmcae,
  t: TrainConfig,
  epoch: number,
): Promise<number> {
  // A factory gets the same seed every epoch: the same validation patches each time.
  const it = await openSource(
    await input({ epoch, seed: (t.seed ^ 0x5bd1e995) >>> 0, role: "validation" }),
  );
  const d = gmcae.config.patchSize;
  let sum = 0;
  let n = 0;
  try {
    for (let i = 0; i < t.validationSteps; i++) {
      const b = await it.next();
      if (!b) break;
      try {
        const ys = toYs(b, d);
        const v = tf.tidy(() =>
          gmmNll(ys, gmcae.model.apply(b.xs, { training: false }) as tf.Tensor, gmcae.config.m, {
            varianceFloor: t.varianceFloor,
          }),
        );
        sum += v.dataSync()[0];
        v.dispose();
        ys.dispose();
        n++;
      } finally {
        disposeBatch(b);
      }
    }
  } finally {
    await it.close();
  }
  if (n === 0) {
    throw new GmcaeError("NO_DATA", `the validation data gave no batches in epoch ${epoch}`, {
      epoch,
    });
  }
  return sum / n;
}

/** Reloads the last good checkpoint (model and Adam state) after a non-finite stop. */
async function loadLastGood(
  lastDir: string,
  optimizer: tf.AdamOptimizer,
): Promise<Gmcae | undefined> {
  try {
    return (await readCheckpoint(lastDir, optimizer)).gmcae;
  } catch {
    return undefined;
  }
}
