import fs from "node:fs/promises";
import { evaluatePredictions, parseSubmissionCsv } from "@lungflow/classifier";
import { parseLabelsCsv } from "@lungflow/patch-store";
import { rocChartSvg, svgToPng } from "@lungflow/report";
import type { Command } from "commander";

/** Registers `train classifier`, `predict` and `evaluate`. */
export function registerClassifierCommands(program: Command, train: Command): void {
  void train;
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
    .action(
      async (o: {
        labels: string;
        predictions: string;
        roc?: string;
        threshold: string;
        json?: boolean;
      }) => {
        const threshold = Number(o.threshold);
        if (!(threshold >= 0 && threshold <= 1))
          throw new Error(`--threshold must be in [0, 1], got ${o.threshold}`);
        const labels = parseLabelsCsv(await fs.readFile(o.labels, "utf8"), o.labels);
        const preds = parseSubmissionCsv(await fs.readFile(o.predictions, "utf8"), o.predictions);
        const ev = evaluatePredictions(labels, preds, threshold);
        if (o.roc) await fs.writeFile(o.roc, svgToPng(await rocChartSvg(ev.roc, ev.report.auc)));
        const r = ev.report;
        if (o.json) {
          console.log(
            JSON.stringify({
              ...r,
              threshold,
              missing: ev.missing,
              unlabelled: ev.unlabelled,
              roc: o.roc ?? null,
            }),
          );
        } else {
          const c = r.confusion;
          console.log(`patients scored   ${r.n} (${r.positives} positive)`);
          console.log(`log loss          ${r.logLoss.toFixed(5)}`);
          console.log(`accuracy          ${r.accuracy.toFixed(4)} (threshold ${threshold})`);
          console.log(
            `ROC AUC           ${Number.isFinite(r.auc) ? r.auc.toFixed(4) : "n/a (one class only)"}`,
          );
          console.log("confusion matrix  predicted 1  predicted 0");
          console.log(
            `  actual 1        ${String(c.tp).padStart(11)}  ${String(c.fn).padStart(11)}`,
          );
          console.log(
            `  actual 0        ${String(c.fp).padStart(11)}  ${String(c.tn).padStart(11)}`,
          );
          if (o.roc) console.log(`ROC curve         ${o.roc}`);
        }
        if (ev.missing.length)
          console.error(
            `warning: ${ev.missing.length} labelled patient(s) have no prediction: ${ev.missing.slice(0, 10).join(", ")}${ev.missing.length > 10 ? ", ..." : ""}`,
          );
        if (ev.unlabelled.length)
          console.error(
            `note: ${ev.unlabelled.length} predicted patient(s) have no label and were not scored`,
          );
      },
    );
}
