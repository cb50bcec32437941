import path from "node:path";
import type { BatchEvent, EpochEvent, GmcaeConfig, TrainConfig } from "@lungflow/gmcae";
import { reconstructFlow, trainGmcaeFlow } from "@lungflow/pipeline";
import { initTf } from "@lungflow/tf-runtime";
import cliProgress from "cli-progress";
import { intOption, listOption, readJsonConfig, UsageError } from "../options.js";
import type { ReconstructCliOptions, TrainCliOptions } from "./gmcae.js";

/** The `train gmcae` action. */
export async function trainGmcae(o: TrainCliOptions): Promise<void> {
  const tfInfo = await initTf({ backend: o.backend });
  const raw: { model?: Partial<GmcaeConfig>; train?: Partial<TrainConfig> } =
    !o.resume && o.config ? await readJsonConfig(o.config) : {};
  const over: Partial<TrainConfig> = {};
  const set = (k: keyof TrainConfig, flag: string, v: string | undefined) => {
    const n = intOption(flag, v);
    if (n !== undefined) (over as Record<string, number>)[k] = n;
  };
  set("epochs", "epochs", o.epochs);
  set("stepsPerEpoch", "steps-per-epoch", o.stepsPerEpoch);
  set("validationSteps", "validation-steps", o.validationSteps);
  set("batchSize", "batch-size", o.batchSize);
  set("seed", "seed", o.seed);
  if (o.resume && Object.keys(over).some((k) => k !== "epochs")) {
    throw new UsageError(
      "with --resume only --epochs may change (the rest comes from the run's config.json)",
    );
  }
  const tty = process.stderr.isTTY === true;
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format:
            "epoch {epoch}/{epochs} [{bar}] {value}/{total} | loss {loss} | {msStep} ms/step | {eta_formatted} left",
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  let epochs = 0;
  let barEpoch = 0;
  const onBatch = (e: BatchEvent) => {
    if (!bar) return;
    const payload = {
      epoch: e.epoch,
      epochs,
      loss: e.loss.toFixed(4),
      msStep: e.ms.toFixed(0),
    };
    if (barEpoch !== e.epoch) {
      barEpoch = e.epoch;
      bar.start(e.stepsPerEpoch, e.step, payload);
    } else bar.update(e.step, payload);
  };
  const onEpoch = (e: EpochEvent) => {
    bar?.stop();
    barEpoch = 0;
    console.log(
      `epoch ${e.epoch}/${e.epochs}: train ${e.trainLoss.toFixed(5)}  val ${e.valLoss.toFixed(5)}  best ${e.bestValLoss.toFixed(5)}${e.improved ? " *" : ""}  ${e.steps} steps in ${e.seconds.toFixed(1)} s`,
    );
  };
  const abort = new AbortController();
  const onSigint = () => {
    abort.abort();
    process.stderr.write("\nstopping after this step (last/ keeps the last finished epoch)\n");
  };
  process.on("SIGINT", onSigint);
  try {
    const result = await trainGmcaeFlow({
      store: o.store,
      out: o.out,
      config: o.resume
        ? { train: over.epochs !== undefined ? { epochs: over.epochs } : {} }
        : {
            model: { ...raw.model, ...(over.seed !== undefined ? { seed: over.seed } : {}) },
            train: { ...raw.train, ...over },
          },
      configSource: o.resume ? path.join(o.out, "config.json") : (o.config ?? "defaults"),
      resume: o.resume,
      workers: intOption("workers", o.workers, 1),
      signal: abort.signal,
      onStart: (s) => {
        epochs = s.run.train.epochs;
        const m = s.run.model;
        console.log(
          `train gmcae: ${s.trainPatients} training patient(s)${s.validationPatients ? `, ${s.validationPatients} validation` : s.hasSplit ? "" : " (store has no split: best checkpoint by training loss)"}; patch ${m.patchSize}^3, filters ${m.filters.join("-")}, m ${m.m}, batch ${s.run.train.batchSize}; backend ${tfInfo.backend}`,
        );
      },
      onBatch,
      onEpoch,
    });
    bar?.stop();
    console.log(`${result.status}: ${result.message}`);
    process.exitCode = result.status === "non-finite" ? 3 : result.status === "aborted" ? 130 : 0;
  } finally {
    bar?.stop();
    process.off("SIGINT", onSigint);
  }
}

/** The `reconstruct` action. */
export async function reconstruct(o: ReconstructCliOptions): Promise<void> {
  await initTf({ backend: o.backend });
  const r = await reconstructFlow({
    model: o.model,
    store: o.store,
    out: o.out,
    ids: listOption(o.patients),
    n: intOption("n", o.n, 1) as number,
    seed: intOption("seed", o.seed) as number,
    slices: intOption("slices", o.slices, 1),
  });
  console.log(
    `wrote ${o.out}: ${r.patches} patch(es) ${r.size}^3 from ${r.patients.join(", ")} (model ${r.checkpoint}); left originals, right reconstructions`,
  );
}
