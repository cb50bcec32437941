import type { Command } from "commander";
import { runAction } from "../options.js";

export interface ReportCli {
  store: string;
  runs: string;
  out: string;
  predictions?: string;
  labels?: string;
  timings?: string;
  maxImages: string;
  title: string;
}

/** Registers `report`. */
export function registerReport(program: Command): void {
  program
    .command("report")
    .description(
      "write a static HTML report: cohort table, slices with lung-mask outlines, loss curves, reconstructions, ROC, timings",
    )
    .requiredOption("--store <path>", "the patch store (Zarr directory)")
    .requiredOption(
      "--runs <dir>",
      "folder of training runs (each sub-folder with an epochs.csv is plotted)",
    )
    .requiredOption("--out <dir>", "output folder (index.html and img/)")
    .option("--predictions <csv>", "Kaggle-format predictions to show and score")
    .option("--labels <csv>", "labels to score against (default: the store's labels)")
    .option("--timings <json>", "timings.json ([{stage, seconds}]) to tabulate")
    .option("--max-images <n>", "patients with slice images", "48")
    .option("--title <text>", "report title", "lungflow report")
    .action((o: ReportCli) =>
      runAction("report", async () => (await import("./report-actions.js")).report(o)),
    );
}
