import type { Command } from "commander";
import { runAction } from "../options.js";
export interface DemoOptions {
  dir: string;
  patients: string;
  seed: string;
  fresh?: boolean;
  workers?: string;
  holdout: string;
  gmcaeEpochs: string;
  classifierEpochs: string;
  matrix: string;
}

export interface DemoManifest {
  patients: number;
  seed: number;
  matrix: number;
  holdout: number;
}

/** Registers `demo`. */
export function registerDemo(program: Command): void {
  program
    .command("demo")
    .description(
      "the whole pipeline on a synthetic cohort: DICOM -> store -> GMCAE -> classifier -> predictions -> HTML report",
    )
    .option("--dir <dir>", "working folder (reused by the next run)", "lungflow-demo")
    .option("--patients <n>", "patients in the synthetic cohort", "64")
    .option("--seed <n>", "seed of the cohort, the split and the training", "1")
    .option(
      "--holdout <fraction>",
      "fraction of patients held out (unlabelled in the store, scored at the end)",
      "0.33",
    )
    .option("--gmcae-epochs <n>", "GMCAE epochs", "4")
    .option("--classifier-epochs <n>", "classifier epochs", "20")
    .option("--matrix <n>", "phantom slice matrix (chest scales with it)", "112")
    .option("--workers <n>", "worker threads for ingest and streaming (default: cores)")
    .option("--fresh", "delete the working folder first instead of reusing what is done")
    .action((o: DemoOptions) =>
      runAction("demo", async () => (await import("./demo-actions.js")).demo(o)),
    );
}
