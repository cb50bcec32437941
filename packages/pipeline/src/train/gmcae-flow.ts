import fs from "node:fs/promises";
import path from "node:path";
import {
  type BatchEvent,
  type EpochEvent,
  type GmcaeConfig,
  parseRunConfig,
  type RunConfig,
  type TrainConfig,
  type TrainResult,
  trainGmcae,
} from "@lungflow/gmcae";
import { lungSampler, openStore } from "@lungflow/patch-store";
import { patchDataset } from "../patches/dataset.js";
import { resolvePatients } from "../patches/patients.js";

/** Options of {@link trainGmcaeFlow}. */
export interface GmcaeFlowOptions {
  /** The patch store (its train/validation split is used when present). */
  store: string;
  /** Run directory (config.json, log.csv, epochs.csv, best/, last/). */
  out: string;
  /** Run configuration `{ model, train }` (validated; defaults filled). On resume only `train.epochs` may be given. */
  config?: { model?: Partial<GmcaeConfig>; train?: Partial<TrainConfig> };
  /** Where `config` came from, for error messages (a file path, "flags"). */
  configSource?: string;
  /** Continue from `out/last`. */
  resume?: boolean;
  /** Patch worker threads (default cores - 1). */
  workers?: number;
  /** tf.data prefetch (default 2). */
  prefetch?: number;
  signal?: AbortSignal;
  /** Once the streams are open: what will be trained on. */
  onStart?: (s: {
    run: RunConfig;
    trainPatients: number;
    validationPatients: number;
    hasSplit: boolean;
  }) => void;
  onBatch?: (e: BatchEvent) => void;
  onEpoch?: (e: EpochEvent) => void;
}

/** What the data path did during a run. */
export interface GmcaeFlowData {
  /** Training batches the trainer took from the dataset. */
  batches: number;
  /** Of the training batches, those the workers wrote into a recycled (shared) buffer. */
  recycledBatches: number;
}

/** Patches per patient so that one stream epoch holds at least `steps` batches. */
function patchesFor(steps: number, batchSize: number, patients: number): number {
  return Math.max(1, Math.ceil((steps * batchSize) / Math.max(1, patients)));
}

/**
 * Trains the GMCAE on lung patches streamed from a store: the patch workers (sampler, cut,
 * 48-symmetry augmentation, normalisation into shared buffers) feed a tf.data dataset per
 * epoch (`patchDataset(...).forEpoch(epoch - 1)`: a resumed run streams the epochs an
 * uninterrupted one would), and the buffers of batches the trainer has disposed are refilled
 * instead of reallocated. Validation streams the same un-augmented patches every epoch.
 * An epoch the trainer leaves early (steps done, Ctrl-C, an error) is cancelled in the workers.
 */
export async function trainGmcaeFlow(
  o: GmcaeFlowOptions,
): Promise<TrainResult & { data: GmcaeFlowData }> {
  let run: RunConfig;
  if (o.resume) {
    const saved = JSON.parse(
      await fs.readFile(path.join(o.out, "config.json"), "utf8").catch(() => "{}"),
    );
    run = parseRunConfig(
      { model: saved.model, train: { ...saved.train, ...o.config?.train } },
      o.configSource ?? `${o.out}/config.json`,
    );
  } else {
    run = parseRunConfig(o.config ?? {}, o.configSource ?? "defaults");
  }
  const store = await openStore(o.store);
  const hasSplit = store.split !== undefined;
  const d = run.model.patchSize;
  const common = {
    sampler: lungSampler({ size: d }),
    batchSize: run.train.batchSize,
    workers: o.workers,
    prefetch: o.prefetch,
    log: false as const,
  };
  const nTrain = (await resolvePatients(o.store, { split: hasSplit ? "train" : undefined })).length;
  const datasets: { close(): Promise<void> }[] = [];
  try {
    const train = await patchDataset(o.store, {
      ...common,
      split: hasSplit ? "train" : undefined,
      seed: run.train.seed,
      patchesPerPatient: patchesFor(run.train.stepsPerEpoch, run.train.batchSize, nTrain),
    });
    datasets.push(train);
    let validation: typeof train | undefined;
    if (hasSplit && run.train.validationSteps > 0) {
      const nVal = (await resolvePatients(o.store, { split: "validation" })).length;
      validation = await patchDataset(o.store, {
        ...common,
        split: "validation",
        seed: (run.train.seed ^ 0x5bd1e995) >>> 0,
        augment: false,
        patchesPerPatient: patchesFor(run.train.validationSteps, run.train.batchSize, nVal),
      });
      datasets.push(validation);
    }
    o.onStart?.({
      run,
      trainPatients: train.stream.patients.length,
      validationPatients: validation?.stream.patients.length ?? 0,
      hasSplit,
    });
    const val = validation;
    let batches = 0;
    const result = await trainGmcae({
      outDir: o.out,
      config: o.resume ? { train: o.config?.train ?? {} } : run,
      resume: o.resume,
      data: ({ epoch }) =>
        train.forEpoch(epoch - 1).map((b) => {
          batches++;
          return b;
        }),
      validation: val ? () => val.forEpoch(0) : undefined,
      onBatch: o.onBatch,
      onEpoch: o.onEpoch,
      signal: o.signal,
    });
    return { ...result, data: { batches, recycledBatches: train.stream.recycledBatches } };
  } finally {
    for (const ds of datasets) await ds.close();
  }
}
