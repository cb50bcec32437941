import type { Command } from "commander";
import { runAction } from "../options.js";

export interface TrainCliOptions {
  store: string;
  out: string;
  config?: string;
  epochs?: string;
  stepsPerEpoch?: string;
  validationSteps?: string;
  batchSize?: string;
  seed?: string;
  resume?: boolean;
  backend?: string;
  workers?: string;
}

export interface ReconstructCliOptions {
  model: string;
  store: string;
  out: string;
  patients?: string;
  n: string;
  seed: string;
  slices?: string;
  backend?: string;
}

/** Registers `train gmcae` (under the given `train` command) and `reconstruct`. */
export function registerGmcaeCommands(program: Command, train: Command): void {
  train
    .command("gmcae")
    .description("train the Gaussian Mixture Conv AutoEncoder on lung patches from a store")
    .requiredOption(
      "--store <path>",
      "patch store (its train/validation split is used when present)",
    )
    .requiredOption("--out <dir>", "run directory: config.json, log.csv, epochs.csv, best/, last/")
    .option(
      "--config <file>",
      'JSON run configuration {"model": {...}, "train": {...}} (see the gmcae README)',
    )
    .option("--epochs <n>", "override train.epochs")
    .option("--steps-per-epoch <n>", "override train.stepsPerEpoch")
    .option("--validation-steps <n>", "override train.validationSteps")
    .option("--batch-size <n>", "override train.batchSize")
    .option("--seed <n>", "override train.seed and model.seed")
    .option("--resume", "continue the run in --out from its last/ checkpoint")
    .option(
      "--backend <name>",
      "node-gpu | node | cpu (default: best available, or LUNGFLOW_BACKEND)",
    )
    .option("--workers <n>", "patch worker threads (default: cores - 1)")
    .action((o: TrainCliOptions) =>
      runAction("train gmcae", async () => (await import("./gmcae-actions.js")).trainGmcae(o)),
    );

  program
    .command("reconstruct")
    .description("PNG mosaic of lung patches (axial slices) beside their GMCAE reconstructions")
    .requiredOption(
      "--model <dir>",
      "a run directory (its best/ is used) or a checkpoint directory",
    )
    .requiredOption("--store <path>", "patch store to cut patches from")
    .requiredOption("--out <file>", "PNG to write")
    .option("--patients <ids>", "comma-separated patient ids (default: all)")
    .option("--n <count>", "number of patches (rows)", "4")
    .option("--seed <n>", "seed of the patch locations", "0")
    .option("--slices <n>", "axial slices per patch (default min(D, 8))")
    .option("--backend <name>", "node-gpu | node | cpu")
    .action((o: ReconstructCliOptions) =>
      runAction("reconstruct", async () => (await import("./gmcae-actions.js")).reconstruct(o)),
    );
}
