import type { Command } from "commander";
import { runAction } from "../options.js";

export interface TrainClassifierCli {
  store: string;
  gmcae?: string;
  out: string;
  config?: string;
  epochs?: string;
  lr?: string;
  classWeight?: string;
  freezeEncoder?: boolean;
  dense?: string;
  dropout?: string;
  patience?: string;
  batchSize?: string;
  seed?: string;
  workers?: string;
  resume?: boolean;
  backend?: string;
  features?: string;
  endToEnd?: boolean;
  symmetries?: string;
}

export interface PredictCli {
  store: string;
  model: string;
  out: string;
  split: string;
  ids?: string;
  tta: string;
  expect?: string;
  fill?: string;
  workers?: string;
  backend?: string;
}

export interface EvaluateCli {
  labels: string;
  predictions: string;
  roc?: string;
  threshold: string;
  json?: boolean;
}

/** Registers `train classifier`, `predict` and `evaluate`. */
export function registerClassifierCommands(program: Command, train: Command): void {
  train
    .command("classifier")
    .description(
      "train the cancer classifier head on the GMCAE encoder's stored features (computed if missing), or end to end on whole volumes",
    )
    .requiredOption(
      "--store <path>",
      "patch store with labels and a split (lungflow store labels / split)",
    )
    .option(
      "--gmcae <dir>",
      "GMCAE run or checkpoint folder whose encoder is used (required unless --resume or --features)",
    )
    .requiredOption("--out <dir>", "run folder: config.json, log.csv, epochs.csv, best/, last/")
    .option(
      "--config <file>",
      'JSON {"head": {region, density, channels, conv, detector, bins, pooling, dense, dropout, standardize, freezeEncoder, seed}, "train": {epochs, learningRate, clipNorm, classWeight, patience, batchSize, seed, augment}}',
    )
    .option("--epochs <n>", "maximum epochs (default 30)")
    .option("--lr <rate>", "Adam learning rate (default 1e-4)")
    .option("--class-weight <w>", "balanced | none | w0,w1 (default balanced)")
    .option("--freeze-encoder", "keep the transferred encoder weights fixed (--end-to-end)")
    .option("--dense <units>", "dense layer sizes, comma-separated (default 1024,1024)")
    .option("--dropout <rate>", "dropout after each dense layer (default 0.5)")
    .option("--patience <n>", "early stopping patience in epochs (default 10)")
    .option(
      "--batch-size <n>",
      "patients whose gradients are averaged per Adam step (default 8; volumes differ in size, so they are not stacked)",
    )
    .option("--seed <n>", "seed of patient order and augmentation")
    .option(
      "--features <encoder-id>",
      "train the head on these stored features (default: compute the --gmcae encoder's features first, see `lungflow features`)",
    )
    .option(
      "--symmetries <k>",
      "stored symmetries drawn from per patient and epoch (feature path; default 4)",
    )
    .option(
      "--end-to-end",
      "train encoder + head on whole volumes (kdsb17's way; slow, needs the memory of a whole-lung activation)",
    )
    .option("--workers <n>", "volume worker threads of --end-to-end (default cores - 1)")
    .option("--resume", "continue the run in --out from its last/ checkpoint")
    .option(
      "--backend <name>",
      "node-gpu | node | cpu (default: best available, or LUNGFLOW_BACKEND)",
    )
    .action((o: TrainClassifierCli) =>
      runAction("train classifier", async () =>
        (await import("./classifier-actions.js")).trainClassifier(o),
      ),
    );

  program
    .command("predict")
    .description(
      "predict cancer probabilities for the store's patients and write a Kaggle submission (id,cancer)",
    )
    .requiredOption("--store <path>", "patch store")
    .requiredOption("--model <dir>", "classifier run (its best/ is used) or checkpoint folder")
    .requiredOption("--out <csv>", "submission file to write")
    .option(
      "--split <name>",
      "train | validation | test (default test: the unlabelled patients)",
      "test",
    )
    .option("--ids <list>", "comma-separated patient ids instead of a split")
    .option(
      "--tta <k>",
      "test-time augmentation: average over the first K of the 48 cube symmetries (identity first)",
      "1",
    )
    .option(
      "--expect <csv>",
      "CSV whose first column lists the ids the submission must cover (e.g. the sample submission); ids missing from the store are reported",
    )
    .option(
      "--fill <p>",
      "probability written for expected patients missing from the store (default: no row)",
    )
    .option("--workers <n>", "volume worker threads (default cores - 1)")
    .option("--backend <name>", "node-gpu | node | cpu")
    .action((o: PredictCli) =>
      runAction("predict", async () => (await import("./classifier-actions.js")).predict(o)),
    );

  program
    .command("evaluate")
    .description(
      "score a submission against labels: log loss, accuracy, ROC AUC, confusion matrix, ROC curve PNG",
    )
    .requiredOption("--labels <csv>", "labels in the Kaggle format (id,cancer with 0/1)")
    .requiredOption(
      "--predictions <csv>",
      "predictions in the Kaggle submission format (id,cancer with probabilities)",
    )
    .option("--roc <png>", "write the ROC curve to this PNG file")
    .option("--threshold <p>", "decision threshold for accuracy and the confusion matrix", "0.5")
    .option("--json", "print one JSON object instead of a table")
    .action((o: EvaluateCli) =>
      runAction("evaluate", async () => (await import("./classifier-actions.js")).evaluate(o)),
    );
}
