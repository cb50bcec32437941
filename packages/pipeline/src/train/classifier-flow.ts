import fs from "node:fs/promises";
import path from "node:path";
import {
  buildFeatureHead,
  buildPooledHead,
  type ClassifierRunConfig,
  classifierFromGmcae,
  densityFeatureId,
  type EpochRecord,
  featureSymmetries,
  type LabelledVolume,
  loadClassifier,
  pooledFeatureId,
  poolsFirst,
  predictSource,
  resolveCheckpoint,
  resolveClassWeight,
  type TrainResult,
  trainClassifier,
} from "@lungflow/classifier";
import { openStore } from "@lungflow/patch-store";
import { tf } from "@lungflow/tf-runtime";
import { applySymmetry } from "@lungflow/volume";
import {
  classifierVolume,
  computeFeatures,
  type FeaturesEvent,
} from "../features/compute-features.js";
import { allSymmetries, featureDataset } from "../features/feature-dataset.js";
import { FeatureStream } from "../features/feature-stream.js";
import { volumeDataset } from "../patches/dataset.js";
import { PatchStreamError } from "../patches/errors.js";
import { type PatientSelection, resolvePatients } from "../patches/patients.js";

/** What a classifier run was trained on (the `config.json` in its run folder). */
/** Symmetries per patient of the default features (K of the 48; the first is the identity). */
export const DEFAULT_SYMMETRIES = 4;

/**
 * What a run's model reads: the lung region or the whole box, and the density channel. Runs
 * written before these options existed read the whole box without one.
 */
export function runInput(run: ClassifierRunInfo): { region: boolean; density: number } {
  return { region: run.head?.region ?? false, density: run.head?.density ?? 0 };
}

export interface ClassifierRunInfo {
  head?: ClassifierRunConfig["head"];
  train?: ClassifierRunConfig["train"];
  gmcae?: string;
  /**
   * Set when the head was trained on stored features (the default path); `pooledId` when it
   * trained on the maps' stored pooled vectors (a head that pools first).
   */
  features?: { encoderId: string; symmetries: number; pooledId?: string; densityId?: string };
}

/** Options of {@link trainClassifierFlow}. */
export interface ClassifierFlowOptions {
  store: string;
  /** Run folder: config.json, log.csv, epochs.csv, best/, last/. */
  out: string;
  /** Validated run configuration (`parseClassifierRunConfig`); on resume the run's own is used. */
  config: ClassifierRunConfig;
  /** GMCAE run whose encoder is used (its features, or transferred end to end). */
  gmcae?: string;
  /** Train the head on these stored features instead of computing the GMCAE's. */
  features?: string;
  /** Stored symmetries drawn from per patient and epoch (default 8; 1 without augmentation). */
  symmetries?: number;
  /** Train encoder + head on whole volumes (kdsb17's way) instead of on stored features. */
  endToEnd?: boolean;
  resume?: boolean;
  /** Volume workers of the end-to-end path (default cores - 1). */
  workers?: number;
  signal?: AbortSignal;
  onFeatures?: (e: FeaturesEvent) => void;
  onStart?: (s: {
    trainPatients: number;
    validationPatients: number;
    classWeight: [number, number];
    features?: { encoderId: string; symmetries: number };
  }) => void;
  onStep?: (s: { epoch: number; step: number; loss: number }) => void;
  onEpoch?: (e: EpochRecord) => void;
}

/** Reads a run folder's `config.json` (or the one above a checkpoint folder); `{}` if none. */
export async function readClassifierRun(modelDir: string): Promise<ClassifierRunInfo> {
  const ckpt = await resolveCheckpoint(modelDir).catch(() => modelDir);
  for (const d of [modelDir, path.dirname(ckpt)]) {
    try {
      return JSON.parse(
        await fs.readFile(path.join(d, "config.json"), "utf8"),
      ) as ClassifierRunInfo;
    } catch {
      // no config here: try the run folder above the checkpoint
    }
  }
  return {};
}

/**
 * Trains the cancer classifier from a store. Default path: the GMCAE encoder's features of
 * every patient (K symmetries, computed where missing, see `computeFeatures`) stream from the
 * store through `featureDataset` into `trainClassifier`, which trains only the head. With
 * `endToEnd`, whole volumes stream from the volume workers (`volumeDataset`) into encoder +
 * head. Each epoch is a tf.data dataset (`forEpoch`), so a resumed run sees the same data.
 */
export async function trainClassifierFlow(o: ClassifierFlowOptions): Promise<TrainResult> {
  const store = await openStore(o.store);
  if (!store.split)
    throw new PatchStreamError(
      "NO_PATIENTS",
      `store ${o.store} has no split: run \`lungflow store split ${o.store}\` after importing labels`,
      { store: o.store },
    );
  const trainIds = await resolvePatients(o.store, { split: "train" });
  const valIds = await resolvePatients(o.store, { split: "validation" });
  if (trainIds.length === 0)
    throw new PatchStreamError(
      "NO_PATIENTS",
      "the store's train split is empty: import labels first",
      {
        store: o.store,
      },
    );
  const cfg = o.config;
  const classWeight = resolveClassWeight(
    cfg.train.classWeight,
    trainIds.map((p) => p.label ?? 0),
  );
  await fs.mkdir(o.out, { recursive: true });
  const prior = o.resume ? await readClassifierRun(o.out) : {};
  const endToEnd = o.resume ? !prior.features : !!o.endToEnd;
  let features = prior.features;
  if (!endToEnd && !features) {
    const k = o.symmetries ?? (cfg.train.augment ? DEFAULT_SYMMETRIES : 1);
    let encoderId = o.features;
    if (!encoderId) {
      if (!o.gmcae)
        throw new PatchStreamError("BAD_OPTION", "a GMCAE run (or stored features) is needed", {});
      encoderId = (
        await computeFeatures({
          store: o.store,
          gmcae: o.gmcae,
          symmetries: k,
          input: { region: cfg.head.region, density: cfg.head.density },
          signal: o.signal,
          onEvent: o.onFeatures,
        })
      ).encoderId;
    }
    features = { encoderId, symmetries: k };
    // Every training and validation patient holds set `id` for the K symmetries.
    const storedForAll = (id: string) =>
      FeatureStream.open(o.store, {
        encoderId: id,
        ids: [...trainIds, ...valIds].map((p) => p.id),
        symmetries: k,
      }).then(
        () => true,
        () => false,
      );
    // A head with nothing trainable before its pooling trains on the stored pooled vectors
    // (kilobytes a patient instead of the maps' megabytes), when every patient has them;
    // a head that reads the density channel alone, on that channel stored alone.
    if (poolsFirst(cfg.head)) {
      const pooledId = pooledFeatureId(encoderId, cfg.head);
      if (await storedForAll(pooledId)) features.pooledId = pooledId;
    } else if (cfg.head.channels === "density" && cfg.head.density > 0) {
      const densityId = densityFeatureId(encoderId);
      if (await storedForAll(densityId)) features.densityId = densityId;
    }
  }
  if (!o.resume) {
    const info: ClassifierRunInfo = { ...cfg, gmcae: o.gmcae, ...(features ? { features } : {}) };
    await fs.writeFile(path.join(o.out, "config.json"), JSON.stringify(info, null, 2));
  }
  o.onStart?.({
    trainPatients: trainIds.length,
    validationPatients: valIds.length,
    classWeight,
    features,
  });
  const closers: (() => Promise<void>)[] = [];
  try {
    let model: tf.LayersModel;
    let train: (epoch: number) => tf.data.Dataset<LabelledVolume>;
    let validation: ((epoch: number) => tf.data.Dataset<LabelledVolume>) | undefined;
    if (features) {
      const encoderId = features.pooledId ?? features.densityId ?? features.encoderId;
      const tr = await featureDataset(o.store, {
        encoderId,
        split: "train",
        symmetries: features.symmetries,
        augment: cfg.train.augment,
        seed: cfg.train.seed,
      });
      closers.push(tr.close);
      train = (e) => tr.forEpoch(e);
      if (valIds.length) {
        const va = await featureDataset(o.store, {
          encoderId,
          split: "validation",
          shuffle: false,
          augment: false,
        });
        closers.push(va.close);
        validation = () => va.forEpoch(0);
      }
      const first = await store.readFeatures(trainIds[0].id, encoderId, 0);
      if (!first)
        throw new PatchStreamError(
          "NO_FEATURES",
          `no features ${encoderId} for ${trainIds[0].id}`,
          {},
        );
      model = o.resume
        ? await loadClassifier(path.join(o.out, "last"))
        : features.pooledId
          ? buildPooledHead(first.shape[3], cfg.head)
          : features.densityId
            ? // the same layers and names less the channel choice, made in the store instead
              buildFeatureHead(1, { ...cfg.head, channels: "all" })
            : buildFeatureHead(first.shape[3], cfg.head);
    } else {
      if (!o.resume && !o.gmcae)
        throw new PatchStreamError("BAD_OPTION", "end-to-end training needs a GMCAE run", {});
      const tr = await volumeDataset(o.store, {
        split: "train",
        region: cfg.head.region,
        seed: cfg.train.seed,
        augment: cfg.train.augment ? undefined : false,
        workers: o.workers,
        log: false,
      });
      closers.push(tr.close);
      train = (e) => tr.forEpoch(e);
      if (valIds.length) {
        const va = await volumeDataset(o.store, {
          split: "validation",
          region: cfg.head.region,
          shuffle: false,
          augment: false,
          workers: o.workers,
          log: false,
        });
        closers.push(va.close);
        validation = () => va.forEpoch(0);
      }
      model = o.resume
        ? await loadClassifier(path.join(o.out, "last"))
        : await classifierFromGmcae(o.gmcae as string, cfg.head);
    }
    return await trainClassifier({
      model,
      outDir: o.out,
      epochs: cfg.train.epochs,
      learningRate: cfg.train.learningRate,
      clipNorm: cfg.train.clipNorm,
      classWeight,
      patience: cfg.train.patience,
      batchSize: cfg.train.batchSize,
      resume: o.resume,
      signal: o.signal,
      train,
      validation,
      onStep: o.onStep,
      onEpoch: o.onEpoch,
    });
  } finally {
    for (const c of closers) await c();
  }
}

/** Options of {@link predictFlow}. */
export interface PredictFlowOptions extends PatientSelection {
  store: string;
  /** Classifier run (its best/) or checkpoint folder. */
  model: string;
  /** Average over the first K of `featureSymmetries` (default 1). */
  tta?: number;
  /** Volume workers of an end-to-end model without TTA (default cores - 1). */
  workers?: number;
  signal?: AbortSignal;
  onFeatures?: (e: FeaturesEvent) => void;
}

/**
 * Cancer probabilities for the selected patients. A head trained on stored features reads the
 * same encoder's features (computing missing ones with the run's GMCAE; a different GMCAE is
 * refused); an end-to-end model reads whole volumes. With `tta` K > 1 the probability is the
 * mean over K symmetries.
 */
export async function predictFlow(
  o: PredictFlowOptions,
): Promise<{ id: string; cancer: number }[]> {
  const tta = o.tta ?? 1;
  featureSymmetries(tta);
  const model = await loadClassifier(o.model);
  const patients = await resolvePatients(o.store, o);
  if (patients.length === 0) return [];
  const run = await readClassifierRun(o.model);
  const sel: PatientSelection = { ids: patients.map((p) => p.id) };
  const mean = (ids: string[], probs: number[]) => {
    const sums = new Map<string, number>();
    for (const [i, id] of ids.entries()) sums.set(id, (sums.get(id) ?? 0) + probs[i]);
    return [...sums].map(([id, s]) => ({ id, cancer: s / tta }));
  };
  if (run.features) {
    const { encoderId } = run.features;
    if (run.gmcae) {
      const r = await computeFeatures({
        store: o.store,
        gmcae: run.gmcae,
        symmetries: tta,
        input: runInput(run),
        ids: sel.ids as string[],
        signal: o.signal,
        onEvent: o.onFeatures,
      });
      if (r.encoderId !== encoderId)
        throw new PatchStreamError(
          "BAD_OPTION",
          `the GMCAE in ${run.gmcae} (encoder ${r.encoderId}) is not the one this head was trained on (${encoderId})`,
          { encoderId, gmcae: run.gmcae },
        );
    }
    const stream = await FeatureStream.open(o.store, {
      encoderId: run.features.pooledId ?? run.features.densityId ?? encoderId,
      ...sel,
      symmetries: tta,
      shuffle: false,
      augment: false,
      requireLabels: false,
    });
    const r = await predictSource(model, allSymmetries(stream));
    return mean(r.ids, r.probs);
  }
  if (tta === 1) {
    const ds = await volumeDataset(o.store, {
      ...sel,
      region: runInput(run).region,
      shuffle: false,
      augment: false,
      requireLabels: false,
      workers: o.workers,
      log: false,
    });
    try {
      const r = await predictSource(model, ds.forEpoch(0));
      return mean(r.ids, r.probs);
    } finally {
      await ds.close();
    }
  }
  // end-to-end model with test-time augmentation: each symmetry of each whole volume
  const store = await openStore(o.store);
  const rows: { id: string; cancer: number }[] = [];
  for (const p of patients) {
    o.signal?.throwIfAborted();
    const attrs = await store.getPatient(p.id);
    if (!attrs)
      throw new PatchStreamError("UNKNOWN_PATIENT", `patient ${p.id} is not in ${o.store}`, {
        patientId: p.id,
      });
    const vol = await classifierVolume(store, attrs, runInput(run).region, o.signal);
    let sum = 0;
    for (const k of featureSymmetries(tta)) {
      const v = applySymmetry(vol.data, vol.shape, k);
      sum += tf.tidy(
        () => (model.predict(tf.tensor5d(v.data, [1, ...v.shape, 1])) as tf.Tensor).dataSync()[0],
      );
    }
    rows.push({ id: p.id, cancer: sum / tta });
  }
  return rows;
}
