import * as fs from "node:fs/promises";
import path from "node:path";
import {
  type BatchEvent,
  type EpochEvent,
  type GmcaeConfig,
  loadGmcae,
  parseRunConfig,
  type TrainConfig,
  trainGmcae,
  writeMosaic,
} from "@lungflow/gmcae";
import { lungSampler, openStore } from "@lungflow/patch-store";
import { PatchStream, resolvePatients } from "@lungflow/pipeline";
import { initTf, tf } from "@lungflow/tf-runtime";
import { isLungflowError } from "@lungflow/volume";
import cliProgress from "cli-progress";
import type { Command } from "commander";

interface TrainCliOptions {
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

interface ReconstructCliOptions {
  model: string;
  store: string;
  out: string;
  patients?: string;
  n: string;
  seed: string;
  slices?: string;
  backend?: string;
}

/** Parses an integer CLI option; throws a message naming the flag. */
function intOpt(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new CliUsageError(`--${name} must be an integer, got "${v}"`);
  return n;
}

class CliUsageError extends Error {}

type StreamBatch = { data: Float32Array; shape: [number, number, number, number] };

/**
 * Patch batches of one stream epoch as the trainer's `{ xs, ys }` tensors. Closing it early
 * stops the epoch (the pipeline cancels the tasks in flight).
 */
function asBatches(
  src: AsyncIterator<StreamBatch>,
): AsyncIterable<{ xs: tf.Tensor; ys: tf.Tensor }> {
  return {
    [Symbol.asyncIterator]() {
      return {
        async next() {
          const r = await src.next();
          if (r.done) return { done: true, value: undefined };
          const [n, d, h, w] = r.value.shape;
          const b = r.value.data;
          return {
            done: false,
            value: { xs: tf.tensor5d(b, [n, d, h, w, 1]), ys: tf.tensor2d(b, [n, d * h * w]) },
          };
        },
        async return() {
          await src.return?.();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

/** Patches per patient so that one stream epoch holds at least `steps` batches. */
function patchesFor(steps: number, batchSize: number, patients: number): number {
  return Math.max(1, Math.ceil((steps * batchSize) / Math.max(1, patients)));
}

function fail(cmd: string, err: unknown): void {
  if (err instanceof CliUsageError) {
    console.error(`lungflow ${cmd}: ${err.message}`);
    process.exitCode = 2;
    return;
  }
  if (isLungflowError(err)) {
    console.error(`lungflow ${cmd}: ${err.code}: ${err.message}`);
    process.exitCode = 1;
    return;
  }
  throw err;
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
    .action(async (o: TrainCliOptions) => {
      let streams: PatchStream[] = [];
      try {
        const tfInfo = await initTf({ backend: o.backend });
        let raw: { model?: Partial<GmcaeConfig>; train?: Partial<TrainConfig> } = {};
        if (o.resume) {
          raw = JSON.parse(
            await fs.readFile(path.join(o.out, "config.json"), "utf8").catch(() => "{}"),
          );
        } else if (o.config) {
          const text = await fs.readFile(o.config, "utf8").catch((err: Error) => {
            throw new CliUsageError(`cannot read --config ${o.config}: ${err.message}`);
          });
          try {
            raw = JSON.parse(text);
          } catch (err) {
            throw new CliUsageError(
              `--config ${o.config} is not valid JSON: ${(err as Error).message}`,
            );
          }
        }
        const over: Partial<TrainConfig> = {};
        const set = (k: keyof TrainConfig, flag: string, v: string | undefined) => {
          const n = intOpt(flag, v);
          if (n !== undefined) (over as Record<string, number>)[k] = n;
        };
        set("epochs", "epochs", o.epochs);
        set("stepsPerEpoch", "steps-per-epoch", o.stepsPerEpoch);
        set("validationSteps", "validation-steps", o.validationSteps);
        set("batchSize", "batch-size", o.batchSize);
        set("seed", "seed", o.seed);
        if (o.resume && Object.keys(over).some((k) => k !== "epochs")) {
          throw new CliUsageError(
            "with --resume only --epochs may change (the rest comes from the run's config.json)",
          );
        }
        const run = parseRunConfig(
          {
            model: { ...raw.model, ...(over.seed !== undefined ? { seed: over.seed } : {}) },
            train: { ...raw.train, ...over },
          },
          o.resume ? path.join(o.out, "config.json") : (o.config ?? "defaults"),
        );
        const d = run.model.patchSize;
        const workers = intOpt("workers", o.workers);
        const store = await openStore(o.store);
        const hasSplit = store.split !== undefined;
        const common = {
          sampler: lungSampler({ size: d }),
          batchSize: run.train.batchSize,
          workers,
          log: false as const,
        };
        const nTrain = (await resolvePatients(o.store, { split: hasSplit ? "train" : undefined }))
          .length;
        const trainStream = await PatchStream.open(o.store, {
          ...common,
          split: hasSplit ? "train" : undefined,
          seed: run.train.seed,
          patchesPerPatient: patchesFor(run.train.stepsPerEpoch, run.train.batchSize, nTrain),
        });
        streams = [trainStream];
        let valStream: PatchStream | undefined;
        if (hasSplit && run.train.validationSteps > 0) {
          const nVal = (await resolvePatients(o.store, { split: "validation" })).length;
          valStream = await PatchStream.open(o.store, {
            ...common,
            split: "validation",
            seed: (run.train.seed ^ 0x5bd1e995) >>> 0,
            augment: false,
            patchesPerPatient: patchesFor(run.train.validationSteps, run.train.batchSize, nVal),
          });
          streams.push(valStream);
        }
        console.log(
          `train gmcae: ${trainStream.patients.length} training patient(s)${valStream ? `, ${valStream.patients.length} validation` : hasSplit ? "" : " (store has no split: best checkpoint by training loss)"}; patch ${d}^3, filters ${run.model.filters.join("-")}, m ${run.model.m}, batch ${run.train.batchSize}; backend ${tfInfo.backend}`,
        );
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
        let barEpoch = 0;
        const onBatch = (e: BatchEvent) => {
          if (!bar) return;
          const payload = {
            epoch: e.epoch,
            epochs: run.train.epochs,
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
          process.stderr.write(
            "\nstopping after this step (last/ keeps the last finished epoch)\n",
          );
        };
        process.on("SIGINT", onSigint);
        try {
          const result = await trainGmcae({
            outDir: o.out,
            config: o.resume
              ? { train: over.epochs !== undefined ? { epochs: over.epochs } : {} }
              : run,
            resume: o.resume,
            data: ({ epoch }) => asBatches(trainStream.epoch(epoch - 1)),
            // The same validation patches every epoch (stream epoch 0, no augmentation).
            validation: valStream ? () => asBatches(valStream.epoch(0)) : undefined,
            onBatch,
            onEpoch,
            signal: abort.signal,
          });
          bar?.stop();
          console.log(`${result.status}: ${result.message}`);
          process.exitCode =
            result.status === "non-finite" ? 3 : result.status === "aborted" ? 130 : 0;
        } finally {
          bar?.stop();
          process.off("SIGINT", onSigint);
        }
      } catch (err) {
        fail("train gmcae", err);
      } finally {
        await Promise.all(streams.map((s) => s.close()));
      }
    });

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
    .action(async (o: ReconstructCliOptions) => {
      let stream: PatchStream | undefined;
      try {
        await initTf({ backend: o.backend });
        const n = intOpt("n", o.n)!;
        const seed = intOpt("seed", o.seed)!;
        if (n < 1) throw new CliUsageError(`--n must be >= 1, got ${n}`);
        const best = path.join(o.model, "best");
        const dir = await fs.stat(path.join(best, "model.json")).then(
          () => best,
          () => o.model,
        );
        const gmcae = await loadGmcae(dir);
        const d = gmcae.config.patchSize;
        stream = await PatchStream.open(o.store, {
          ids: o.patients
            ? o.patients
                .split(",")
                .map((s) => s.trim())
                .filter(Boolean)
            : undefined,
          sampler: lungSampler({ size: d }),
          batchSize: n,
          patchesPerPatient: Math.max(
            1,
            Math.ceil(n / (o.patients ? o.patients.split(",").length : 1)),
          ),
          seed,
          augment: false,
          workers: 1,
          log: false,
        });
        const it = stream.epoch(0);
        const first = await it.next();
        await it.return?.();
        if (first.done)
          throw new CliUsageError("the store gave no patches for the chosen patients");
        const b = first.value;
        const xs = tf.tensor5d(b.data, [b.shape[0], d, d, d, 1]);
        await writeMosaic(gmcae, xs, o.out, { slices: intOpt("slices", o.slices) });
        xs.dispose();
        console.log(
          `wrote ${o.out}: ${b.shape[0]} patch(es) ${d}^3 from ${[...new Set(b.locations.map((l) => l.patientId))].join(", ")} (model ${dir}); left originals, right reconstructions`,
        );
      } catch (err) {
        fail("reconstruct", err);
      } finally {
        await stream?.close();
      }
    });
}
