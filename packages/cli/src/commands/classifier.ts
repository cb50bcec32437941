import fs from "node:fs/promises";
import path from "node:path";
import {
  buildFeatureHead,
  type ClassifierRunConfig,
  classifierFromGmcae,
  evaluatePredictions,
  featureSymmetries,
  type LabelledVolume,
  loadClassifier,
  parseClassifierRunConfig,
  parseSubmissionCsv,
  predictSource,
  resolveCheckpoint,
  resolveClassWeight,
  trainClassifier,
  writeSubmission,
} from "@lungflow/classifier";
import { openStore, parseLabelsCsv } from "@lungflow/patch-store";
import {
  computeFeatures,
  type FeatureItem,
  FeatureStream,
  resolvePatients,
  type VolumeItem,
  VolumeStream,
} from "@lungflow/pipeline";
import { rocChartSvg, svgToPng } from "@lungflow/report";
import { initTf, tf } from "@lungflow/tf-runtime";
import { applySymmetry, normalizeHu } from "@lungflow/volume";
import cliProgress from "cli-progress";
import type { Command } from "commander";

/** Stream items as the classifier's `{ xs: [1, Z, Y, X, 1], ys: [1, 1] }` elements. */
async function* asVolumes(items: AsyncIterable<VolumeItem>): AsyncGenerator<LabelledVolume> {
  for await (const v of items) {
    const [z, y, x] = v.shape;
    yield {
      id: v.patientId,
      xs: tf.tensor5d(v.data, [1, z, y, x, 1]),
      ys: tf.tensor2d([v.label ?? -1], [1, 1]),
    };
  }
}

/** Stored feature maps as the head's `{ xs: [1, z, y, x, C], ys: [1, 1] }` elements. */
async function* asFeatures(items: AsyncIterable<FeatureItem>): AsyncGenerator<LabelledVolume> {
  for await (const f of items) {
    yield {
      id: f.patientId,
      xs: tf.tensor5d(f.data, [1, ...f.shape]),
      ys: tf.tensor2d([f.label ?? -1], [1, 1]),
    };
  }
}

/** What a classifier run was trained on (its `config.json`), if the folder has one. */
interface RunInfo {
  gmcae?: string;
  features?: { encoderId: string; symmetries: number };
}

async function readRunInfo(modelDir: string): Promise<RunInfo> {
  const ckpt = await resolveCheckpoint(modelDir);
  for (const d of [modelDir, path.dirname(ckpt)]) {
    try {
      return JSON.parse(await fs.readFile(path.join(d, "config.json"), "utf8")) as RunInfo;
    } catch {
      // no config here: try the run folder above the checkpoint
    }
  }
  return {};
}

function numberOpt(
  flag: string,
  v: string | undefined,
  check: (n: number) => boolean = Number.isFinite,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!check(n)) throw new Error(`--${flag}: bad value "${v}"`);
  return n;
}

interface TrainClassifierCli {
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

/** Run configuration from the JSON file (or the run's own config.json on resume) and the flags. */
async function classifierConfig(o: TrainClassifierCli): Promise<ClassifierRunConfig> {
  const file = o.resume ? path.join(o.out, "config.json") : o.config;
  let raw: { head?: Record<string, unknown>; train?: Record<string, unknown> } = {};
  if (file) {
    const text = await fs.readFile(file, "utf8").catch((err: Error) => {
      throw new Error(`cannot read ${file}: ${err.message}`);
    });
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
    }
  }
  const head = { ...raw.head };
  const train = { ...raw.train };
  const int = (n: number) => Number.isInteger(n);
  const set = (obj: Record<string, unknown>, key: string, v: unknown) => {
    if (v !== undefined) obj[key] = v;
  };
  set(train, "epochs", numberOpt("epochs", o.epochs, int));
  set(train, "learningRate", numberOpt("lr", o.lr));
  set(train, "patience", numberOpt("patience", o.patience, int));
  set(train, "batchSize", numberOpt("batch-size", o.batchSize, int));
  set(train, "seed", numberOpt("seed", o.seed, int));
  if (o.classWeight !== undefined) {
    set(
      train,
      "classWeight",
      o.classWeight === "balanced" || o.classWeight === "none"
        ? o.classWeight
        : o.classWeight.split(",").map(Number),
    );
  }
  if (o.freezeEncoder) head.freezeEncoder = true;
  if (o.dense !== undefined) head.dense = o.dense.split(",").map(Number);
  set(head, "dropout", numberOpt("dropout", o.dropout));
  return parseClassifierRunConfig({ head, train }, file ? `${file} + flags` : "flags");
}

/** Registers `train classifier`, `predict` and `evaluate`. */
export function registerClassifierCommands(program: Command, train: Command): void {
  train
    .command("classifier")
    .description(
      "train the cancer classifier on whole lung volumes, on top of a trained GMCAE encoder",
    )
    .requiredOption(
      "--store <path>",
      "patch store with labels and a split (lungflow store labels / split)",
    )
    .option(
      "--gmcae <dir>",
      "GMCAE run or checkpoint folder whose encoder is transferred (required unless --resume)",
    )
    .requiredOption("--out <dir>", "run folder: config.json, log.csv, epochs.csv, best/, last/")
    .option(
      "--config <file>",
      'JSON {"head": {bins, dense, dropout, freezeEncoder, seed}, "train": {epochs, learningRate, clipNorm, classWeight, patience, seed, augment}}',
    )
    .option("--epochs <n>", "maximum epochs (default 30)")
    .option("--lr <rate>", "Adam learning rate (default 1e-4)")
    .option("--class-weight <w>", "balanced | none | w0,w1 (default balanced)")
    .option("--freeze-encoder", "keep the transferred encoder weights fixed")
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
      "stored symmetries drawn from per patient and epoch (feature path; default 8)",
    )
    .option(
      "--end-to-end",
      "train encoder + head on whole volumes (kdsb17's way; slow, needs the memory of a whole-lung activation)",
    )
    .option("--workers <n>", "volume worker threads (default cores - 1)")
    .option("--resume", "continue the run in --out from its last/ checkpoint")
    .option(
      "--backend <name>",
      "node-gpu | node | cpu (default: best available, or LUNGFLOW_BACKEND)",
    )
    .action(async (o: TrainClassifierCli) => {
      const info = await initTf({ backend: o.backend });
      const cfg = await classifierConfig(o);
      if (!o.resume && !o.gmcae && !o.features)
        throw new Error(
          "--gmcae <dir> is required (the encoder whose features the head learns on), or --features <encoder-id>",
        );
      if (o.endToEnd && o.features)
        throw new Error("--end-to-end trains on volumes: it cannot take --features");
      const store = await openStore(o.store);
      if (!store.split)
        throw new Error(
          `store ${o.store} has no split: run \`lungflow store split ${o.store}\` after importing labels`,
        );
      const trainIds = await resolvePatients(o.store, { split: "train" });
      const valIds = await resolvePatients(o.store, { split: "validation" });
      if (trainIds.length === 0)
        throw new Error("the store's train split is empty: import labels first");
      const workers = numberOpt("workers", o.workers, (n) => Number.isInteger(n) && n >= 1);
      const weights = resolveClassWeight(
        cfg.train.classWeight,
        trainIds.map((p) => p.label ?? 0),
      );
      await fs.mkdir(o.out, { recursive: true });
      const prior: RunInfo = o.resume ? await readRunInfo(o.out) : {};
      const endToEnd = o.resume ? !prior.features : !!o.endToEnd;
      const k =
        prior.features?.symmetries ??
        numberOpt("symmetries", o.symmetries, (n) => Number.isInteger(n) && n >= 1 && n <= 48) ??
        (cfg.train.augment ? 8 : 1);
      let features = prior.features;
      if (!endToEnd && !features) {
        let id = o.features;
        if (!id) {
          const r = await computeFeatures({
            store: o.store,
            gmcae: o.gmcae!,
            symmetries: k,
            onEvent: (e) => {
              if (e.type === "start")
                console.log(
                  `features ${e.encoderId}: ${e.patients} patient(s), symmetries ${e.symmetries.join(",")}`,
                );
              else if (e.type === "failed")
                console.error(`  ${e.patientId}: features failed: ${e.error.message}`);
            },
          });
          console.log(
            `features ${r.encoderId}: ${r.written} array(s) computed, ${r.skipped} reused, ${r.seconds.toFixed(1)} s`,
          );
          id = r.encoderId;
        }
        features = { encoderId: id, symmetries: k };
      }
      if (!o.resume)
        await fs.writeFile(
          path.join(o.out, "config.json"),
          JSON.stringify({ ...cfg, gmcae: o.gmcae, ...(features ? { features } : {}) }, null, 2),
        );
      let model: tf.LayersModel;
      type Src = (epoch: number) => AsyncIterable<LabelledVolume>;
      let train: Src;
      let validation: Src | undefined;
      const closers: (() => Promise<void>)[] = [];
      if (features) {
        const { encoderId } = features;
        const trainStream = await FeatureStream.open(o.store, {
          encoderId,
          split: "train",
          symmetries: features.symmetries,
          augment: cfg.train.augment,
          seed: cfg.train.seed,
        });
        const valStream = valIds.length
          ? await FeatureStream.open(o.store, {
              encoderId,
              split: "validation",
              shuffle: false,
              augment: false,
            })
          : undefined;
        const first = await (await openStore(o.store)).readFeatures(trainIds[0].id, encoderId, 0);
        model = o.resume
          ? await loadClassifier(path.join(o.out, "last"))
          : buildFeatureHead(first!.shape[3], cfg.head);
        train = (epoch) => asFeatures(trainStream.epoch(epoch));
        validation = valStream ? () => asFeatures(valStream.epoch(0)) : undefined;
      } else {
        model = o.resume
          ? await loadClassifier(path.join(o.out, "last"))
          : await classifierFromGmcae(o.gmcae!, cfg.head);
        const trainStream = await VolumeStream.open(o.store, {
          split: "train",
          seed: cfg.train.seed,
          augment: cfg.train.augment ? undefined : false,
          workers,
          log: false,
        });
        closers.push(() => trainStream.close());
        const valStream = valIds.length
          ? await VolumeStream.open(o.store, {
              split: "validation",
              shuffle: false,
              augment: false,
              workers,
              log: false,
            })
          : undefined;
        if (valStream) closers.push(() => valStream.close());
        train = (epoch) => asVolumes(trainStream.epoch(epoch));
        validation = valStream ? () => asVolumes(valStream.epoch(0)) : undefined;
      }
      console.log(
        `train classifier: ${trainIds.length} training / ${valIds.length} validation patients; class weights ${weights.map((w) => w.toFixed(2)).join(", ")}; ${cfg.head.conv.length ? `conv ${cfg.head.conv.join("-")}, ` : ""}dense ${cfg.head.dense.join("-")}, SPP ${cfg.head.bins.join(",")}; ${features ? `on stored features ${features.encoderId} (${features.symmetries} symmetries)` : `end to end${cfg.head.freezeEncoder ? ", encoder frozen" : ""}`}; backend ${info.backend}`,
      );
      const bar = process.stderr.isTTY
        ? new cliProgress.SingleBar(
            { format: "epoch {epoch} [{bar}] {value}/{total} | loss {loss}", hideCursor: true },
            cliProgress.Presets.shades_classic,
          )
        : undefined;
      const abort = new AbortController();
      const onSigint = () => abort.abort();
      process.on("SIGINT", onSigint);
      try {
        let inEpoch = -1;
        const res = await trainClassifier({
          model,
          outDir: o.out,
          epochs: cfg.train.epochs,
          learningRate: cfg.train.learningRate,
          clipNorm: cfg.train.clipNorm,
          classWeight: weights,
          patience: cfg.train.patience,
          batchSize: cfg.train.batchSize,
          resume: o.resume,
          signal: abort.signal,
          train,
          validation,
          onStep: (s) => {
            if (!bar) return;
            if (s.epoch !== inEpoch) {
              inEpoch = s.epoch;
              bar.start(trainIds.length, 0, { epoch: s.epoch + 1, loss: "" });
            }
            bar.increment({ loss: s.loss.toFixed(4) });
          },
          onEpoch: (e) => {
            bar?.stop();
            console.log(
              `epoch ${e.epoch}/${cfg.train.epochs}: train ${e.trainLoss.toFixed(4)}  val loss ${e.valLoss.toFixed(4)}  acc ${e.valAccuracy.toFixed(3)}  AUC ${Number.isFinite(e.valAuc) ? e.valAuc.toFixed(3) : "n/a"}${e.best ? " *" : ""}  ${e.seconds.toFixed(1)} s`,
            );
          },
        });
        console.log(
          `best epoch ${res.bestEpoch} (validation log loss ${res.bestValLoss.toFixed(4)})${res.stoppedEarly ? ", stopped early" : ""}; model in ${path.join(o.out, "best")}`,
        );
      } finally {
        bar?.stop();
        process.off("SIGINT", onSigint);
        for (const c of closers) await c();
      }
    });

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
      "--expect <csv>",
      "CSV whose first column lists the ids the submission must cover (e.g. the sample submission); ids missing from the store are reported",
    )
    .option(
      "--fill <p>",
      "probability written for expected patients missing from the store (default: no row)",
    )
    .option(
      "--tta <k>",
      "test-time augmentation: average over the first K of the 48 cube symmetries (identity first)",
      "1",
    )
    .option("--workers <n>", "volume worker threads (default cores - 1)")
    .option("--backend <name>", "node-gpu | node | cpu")
    .action(
      async (o: {
        store: string;
        model: string;
        tta: string;
        out: string;
        split: string;
        ids?: string;
        expect?: string;
        fill?: string;
        workers?: string;
        backend?: string;
      }) => {
        await initTf({ backend: o.backend });
        if (!["train", "validation", "test"].includes(o.split))
          throw new Error(`--split must be train, validation or test, got ${o.split}`);
        const fill = numberOpt("fill", o.fill, (n) => n >= 0 && n <= 1);
        const model = await loadClassifier(o.model);
        const sel = o.ids
          ? {
              ids: o.ids
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean),
            }
          : { split: o.split as "train" | "validation" | "test" };
        const patients = await resolvePatients(o.store, sel);
        const rows: { id: string; cancer: number }[] = [];
        const tta = numberOpt("tta", o.tta, (n) => Number.isInteger(n) && n >= 1 && n <= 48)!;
        const run = await readRunInfo(o.model);
        if (patients.length > 0 && run.features) {
          // a head trained on stored features: the same encoder's features, computed where missing
          const { encoderId } = run.features;
          if (run.gmcae) {
            const r = await computeFeatures({
              store: o.store,
              gmcae: run.gmcae,
              symmetries: tta,
              ids: patients.map((p) => p.id),
            });
            if (r.encoderId !== encoderId)
              throw new Error(
                `the GMCAE in ${run.gmcae} (encoder ${r.encoderId}) is not the one this head was trained on (${encoderId})`,
              );
          }
          const stream = await FeatureStream.open(o.store, {
            encoderId,
            ...sel,
            symmetries: tta,
            shuffle: false,
            augment: false,
            requireLabels: false,
          });
          const sums = new Map<string, number>();
          const r = await predictSource(model, asFeatures(stream.all()));
          for (const [i, id] of r.ids.entries()) sums.set(id, (sums.get(id) ?? 0) + r.probs[i]);
          for (const [id, sum] of sums) rows.push({ id, cancer: sum / tta });
        } else if (patients.length > 0 && tta > 1) {
          // end-to-end model with test-time augmentation: each symmetry of each whole volume
          const store = await openStore(o.store);
          for (const p of patients) {
            const hu = await store.readVolume(p.id, "hu");
            const vol = normalizeHu(hu.data);
            let sum = 0;
            for (const k of featureSymmetries(tta)) {
              const v = applySymmetry(vol, hu.shape, k);
              const prob = tf.tidy(
                () =>
                  (
                    model.predict(tf.tensor5d(v.data, [1, ...v.shape, 1])) as tf.Tensor
                  ).dataSync()[0],
              );
              sum += prob;
            }
            rows.push({ id: p.id, cancer: sum / tta });
          }
        } else if (patients.length > 0) {
          const stream = await VolumeStream.open(o.store, {
            ...sel,
            shuffle: false,
            augment: false,
            requireLabels: false,
            workers: numberOpt("workers", o.workers, (n) => Number.isInteger(n) && n >= 1),
            log: false,
          });
          try {
            const r = await predictSource(model, asVolumes(stream.epoch(0)));
            for (const [i, id] of r.ids.entries()) rows.push({ id, cancer: r.probs[i] });
          } finally {
            await stream.close();
          }
        }
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
      },
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
