import fs from "node:fs/promises";
import path from "node:path";
import {
  type ClassifierRunConfig,
  evaluatePredictions,
  parseClassifierRunConfig,
  parseSubmissionCsv,
  writeSubmission,
} from "@lungflow/classifier";
import { openStore, parseLabelsCsv } from "@lungflow/patch-store";
import { predictFlow, trainClassifierFlow } from "@lungflow/pipeline";
import { rocChartSvg, svgToPng } from "@lungflow/report";
import { initTf } from "@lungflow/tf-runtime";
import cliProgress from "cli-progress";
import { intOption, listOption, numberOption, readJsonConfig, UsageError } from "../options.js";
import type { EvaluateCli, PredictCli, TrainClassifierCli } from "./classifier.js";
import { printFeaturesEvent } from "./features-actions.js";

/** Run configuration from the JSON file (or the run's own config.json on resume) and the flags. */
async function classifierConfig(o: TrainClassifierCli): Promise<ClassifierRunConfig> {
  const file = o.resume ? path.join(o.out, "config.json") : o.config;
  const raw = file ? await readJsonConfig(file) : {};
  const head = { ...(raw.head as Record<string, unknown> | undefined) };
  const train = { ...(raw.train as Record<string, unknown> | undefined) };
  const set = (obj: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) obj[key] = v;
  };
  set(train, "epochs", intOption("epochs", o.epochs, 1));
  set(
    train,
    "learningRate",
    numberOption("lr", o.lr, (n) => n > 0 && n < 1, "a rate in (0, 1)"),
  );
  set(train, "patience", intOption("patience", o.patience, 1));
  set(train, "batchSize", intOption("batch-size", o.batchSize, 1));
  set(train, "seed", intOption("seed", o.seed));
  if (o.classWeight !== undefined) {
    set(
      train,
      "classWeight",
      o.classWeight === "balanced" || o.classWeight === "none"
        ? o.classWeight
        : o.classWeight.split(",").map(Number),
    );
  }
  // fine-tuning the encoder end to end wants kdsb17's small rate, not the head's default
  if (o.endToEnd && !o.resume && train.learningRate === undefined) train.learningRate = 1e-4;
  if (o.freezeEncoder) head.freezeEncoder = true;
  if (o.dense !== undefined) head.dense = listOption(o.dense)?.map(Number);
  set(head, "dropout", numberOption("dropout", o.dropout));
  return parseClassifierRunConfig({ head, train }, file ? `${file} + flags` : "flags");
}

/** Prints the features stage's progress (one line per start / failure). */
/** Aborts on Ctrl-C while `fn` runs. */
async function withSigint<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on("SIGINT", onSigint);
  try {
    return await fn(abort.signal);
  } finally {
    process.off("SIGINT", onSigint);
  }
}

/** The `train classifier` action. */
export async function trainClassifier(o: TrainClassifierCli): Promise<void> {
  const info = await initTf({ backend: o.backend });
  const cfg = await classifierConfig(o);
  if (!o.resume && !o.gmcae && !o.features)
    throw new UsageError(
      "--gmcae <dir> is required (the encoder whose features the head learns on), or --features <encoder-id>",
    );
  if (o.endToEnd && o.features)
    throw new UsageError("--end-to-end trains on volumes: it cannot take --features");
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar(
        { format: "epoch {epoch} [{bar}] {value}/{total} | loss {loss}", hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let trainPatients = 0;
  let inEpoch = -1;
  try {
    const res = await withSigint((signal) =>
      trainClassifierFlow({
        store: o.store,
        out: o.out,
        config: cfg,
        gmcae: o.gmcae,
        features: o.features,
        symmetries: intOption("symmetries", o.symmetries, 1, 48),
        endToEnd: o.endToEnd,
        resume: o.resume,
        workers: intOption("workers", o.workers, 1),
        signal,
        onFeatures: (e) => printFeaturesEvent(e),
        onStart: (s) => {
          trainPatients = s.trainPatients;
          console.log(
            `train classifier: ${s.trainPatients} training / ${s.validationPatients} validation patients; class weights ${s.classWeight.map((w) => w.toFixed(2)).join(", ")}; batch ${cfg.train.batchSize}; ${cfg.head.conv.length ? `conv ${cfg.head.conv.join("-")}, ` : ""}dense ${cfg.head.dense.join("-")}, SPP ${cfg.head.bins.join(",")}; ${s.features ? `on stored features ${s.features.encoderId} (${s.features.symmetries} symmetries)` : `end to end${cfg.head.freezeEncoder ? ", encoder frozen" : ""}`}; backend ${info.backend}`,
          );
        },
        onStep: (s) => {
          if (!bar) return;
          if (s.epoch !== inEpoch) {
            inEpoch = s.epoch;
            bar.start(trainPatients, 0, { epoch: s.epoch + 1, loss: "" });
          }
          bar.increment({ loss: s.loss.toFixed(4) });
        },
        onEpoch: (e) => {
          bar?.stop();
          console.log(
            `epoch ${e.epoch}/${cfg.train.epochs}: train ${e.trainLoss.toFixed(4)}  val loss ${e.valLoss.toFixed(4)}  acc ${e.valAccuracy.toFixed(3)}  AUC ${Number.isFinite(e.valAuc) ? e.valAuc.toFixed(3) : "n/a"}${e.best ? " *" : ""}  ${e.seconds.toFixed(1)} s`,
          );
        },
      }),
    );
    console.log(
      `best epoch ${res.bestEpoch} (validation log loss ${res.bestValLoss.toFixed(4)})${res.stoppedEarly ? ", stopped early" : ""}; model in ${path.join(o.out, "best")}`,
    );
  } finally {
    bar?.stop();
  }
}

/** The `predict` action. */
export async function predict(o: PredictCli): Promise<void> {
  await initTf({ backend: o.backend });
  if (!["train", "validation", "test"].includes(o.split))
    throw new UsageError(`--split must be train, validation or test, got ${o.split}`);
  const fill = numberOption("fill", o.fill, (n) => n >= 0 && n <= 1, "a probability in [0, 1]");
  const ids = listOption(o.ids);
  const rows = await withSigint((signal) =>
    predictFlow({
      store: o.store,
      model: o.model,
      ...(ids ? { ids } : { split: o.split as "train" | "validation" | "test" }),
      tta: intOption("tta", o.tta, 1, 48),
      workers: intOption("workers", o.workers, 1),
      signal,
      onFeatures: (e) => printFeaturesEvent(e),
    }),
  );
  if (o.expect) {
    const text = await fs.readFile(o.expect, "utf8");
    const expected = text
      .split(/\r?\n/)
      .slice(1)
      .map((l) => l.split(",")[0].trim())
      .filter(Boolean);
    const have = new Set(await (await openStore(o.store)).listPatients());
    const missing = expected.filter((id) => !have.has(id));
    if (missing.length) {
      console.error(
        `${missing.length} expected patient(s) are not in the store (failed or not ingested): ${missing.join(", ")}`,
      );
      if (fill !== undefined) for (const id of missing) rows.push({ id, cancer: fill });
      else console.error("they get no row (pass --fill <p> to write one)");
    }
  }
  await writeSubmission(rows, o.out);
  console.log(`wrote ${o.out}: ${rows.length} patient(s)`);
}

/** The `evaluate` action. */
export async function evaluate(o: EvaluateCli): Promise<void> {
  const threshold = numberOption(
    "threshold",
    o.threshold,
    (n) => n >= 0 && n <= 1,
    "a probability in [0, 1]",
  );
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
    console.log(`  actual 1        ${String(c.tp).padStart(11)}  ${String(c.fn).padStart(11)}`);
    console.log(`  actual 0        ${String(c.fp).padStart(11)}  ${String(c.tn).padStart(11)}`);
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
}
