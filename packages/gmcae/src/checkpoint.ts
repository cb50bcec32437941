import fs from "node:fs/promises";
import path from "node:path";
import { loadTensors, saveTensors, type tf } from "@lungflow/tf-runtime";
import { GmcaeError } from "./errors.js";
import { type Gmcae, loadGmcae, saveGmcae } from "./model.js";

/** What a checkpoint remembers besides weights and optimizer state (`state.json`). */
export interface TrainState {
  format: "lungflow-gmcae-state";
  /** Completed epochs. */
  epoch: number;
  /** Optimizer steps taken. */
  globalStep: number;
  /** The run RNG's state (sfc32 words) after `epoch` epochs. */
  rng: number[];
  bestValLoss: number | null;
  /** Epoch (1-based) of the best validation loss, 0 if none yet. */
  bestEpoch: number;
  epochsSinceBest: number;
}

/** Adam keeps beta^t as float32 variables updated by multiplication; saving them (not
 * recomputing pow(beta, t)) is what makes a resumed run bit-identical. */
type AdamInternals = { accBeta1?: tf.Variable; accBeta2?: tf.Variable };

async function swapIn(tmp: string, dir: string): Promise<void> {
  const old = `${dir}.old`;
  await fs.rm(old, { recursive: true, force: true });
  try {
    await fs.rename(dir, old);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await fs.rename(tmp, dir);
  await fs.rm(old, { recursive: true, force: true });
}

/**
 * Writes a checkpoint directory atomically (written beside it, then renamed in): the model
 * (model.json + weights.bin), the Adam state (optimizer.json + optimizer.bin) and state.json.
 */
export async function writeCheckpoint(
  dir: string,
  gmcae: Gmcae,
  optimizer: tf.AdamOptimizer,
  state: TrainState,
): Promise<void> {
  const tmp = `${dir}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  await saveGmcae(gmcae, tmp);
  const weights = await optimizer.getWeights();
  const internals = optimizer as unknown as AdamInternals;
  const extra = [];
  if (internals.accBeta1 && internals.accBeta2) {
    extra.push(
      { name: "__accBeta1", tensor: internals.accBeta1 },
      { name: "__accBeta2", tensor: internals.accBeta2 },
    );
  }
  await saveTensors(tmp, "optimizer", [...weights, ...extra]);
  await fs.writeFile(path.join(tmp, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
  await swapIn(tmp, dir);
}

/** Copies a checkpoint directory atomically (e.g. last/ -> best/). */
export async function copyCheckpoint(from: string, to: string): Promise<void> {
  const tmp = `${to}.tmp`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.cp(from, tmp, { recursive: true });
  await swapIn(tmp, to);
}

/** Reads a checkpoint: the model, its state, and restores the Adam state into `optimizer`. */
export async function readCheckpoint(
  dir: string,
  optimizer: tf.AdamOptimizer,
): Promise<{ gmcae: Gmcae; state: TrainState }> {
  let state: TrainState;
  try {
    state = JSON.parse(await fs.readFile(path.join(dir, "state.json"), "utf8")) as TrainState;
  } catch (err) {
    throw new GmcaeError(
      "BAD_CHECKPOINT",
      `cannot read ${path.join(dir, "state.json")}: ${(err as Error).message}`,
      { dir },
      { cause: err },
    );
  }
  if (
    state.format !== "lungflow-gmcae-state" ||
    !Number.isInteger(state.epoch) ||
    !Array.isArray(state.rng)
  ) {
    throw new GmcaeError(
      "BAD_CHECKPOINT",
      `${path.join(dir, "state.json")} is not a GMCAE training state`,
      { dir },
    );
  }
  const gmcae = await loadGmcae(dir);
  const named = await loadTensors(dir, "optimizer");
  const acc = named.filter((t) => t.name.startsWith("__accBeta"));
  await optimizer.setWeights(named.filter((t) => !t.name.startsWith("__accBeta")));
  const internals = optimizer as unknown as AdamInternals;
  for (const t of acc) {
    const v = t.name === "__accBeta1" ? internals.accBeta1 : internals.accBeta2;
    v?.assign(t.tensor);
    t.tensor.dispose();
  }
  return { gmcae, state };
}
