import { writeReport } from "@lungflow/report";
import type { Command } from "commander";

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
    .action(
      async (o: {
        store: string;
        runs: string;
        out: string;
        predictions?: string;
        labels?: string;
        timings?: string;
        maxImages: string;
        title: string;
      }) => {
        const maxImages = Number(o.maxImages);
        if (!Number.isInteger(maxImages) || maxImages < 0)
          throw new Error(`--max-images must be a whole number, got ${o.maxImages}`);
        const r = await writeReport({ ...o, maxImages });
        console.log(
          `report: ${r.file} (${r.patients} patients, ${r.images} slice images${r.auc === undefined ? "" : `, AUC ${r.auc.toFixed(3)}`})`,
        );
      },
    );
}
