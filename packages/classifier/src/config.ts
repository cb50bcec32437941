import { ClassifierError } from "./errors.js";
import { type ClassifierHeadConfig, DEFAULT_HEAD } from "./model.js";

/** Training settings of the classifier (kdsb17 defaults where it had them). */
export interface ClassifierTrainConfig {
  /** Maximum epochs (default 30). */
  epochs: number;
  /**
   * Adam learning rate (default 1e-2: the default head has ~150 weights on stored features;
   * `lungflow train classifier --end-to-end` fine-tunes the encoder with kdsb17's 1e-4).
   */
  learningRate: number;
  /** Global gradient-norm clip, 0 = off (default 1). */
  clipNorm: number;
  /** Class weights: "balanced" (n / (2 n_c) from the training labels), "none", or [w0, w1]. */
  classWeight: "balanced" | "none" | [number, number];
  /** Early-stopping patience in epochs on validation log loss (default 10). */
  patience: number;
  /** Seed of the patient order and augmentation (default 1). */
  seed: number;
  /**
   * Patients whose gradients are averaged per optimiser step (default 8). With 1, Adam moves
   * the logit towards each patient's label in turn and the training loss sits above ln 2.
   */
  batchSize: number;
  /** Draw one of the 48 cube symmetries per volume and epoch (default true). */
  augment: boolean;
}

export interface ClassifierRunConfig {
  head: ClassifierHeadConfig;
  train: ClassifierTrainConfig;
}

export const DEFAULT_CLASSIFIER_TRAIN: ClassifierTrainConfig = {
  epochs: 30,
  learningRate: 1e-2,
  clipNorm: 1,
  classWeight: "balanced",
  patience: 10,
  seed: 1,
  batchSize: 8,
  augment: true,
};

/**
 * Validates a run configuration `{ head: {...}, train: {...} }` (every key optional),
 * filling defaults. Unknown keys, wrong types and out-of-range values are `BAD_CONFIG`
 * errors naming the source (a file path or "flags") and the key.
 */
export function parseClassifierRunConfig(raw: unknown, source: string): ClassifierRunConfig {
  const bad = (key: string, msg: string) =>
    new ClassifierError("BAD_CONFIG", `${source}: ${key} ${msg}`, { source, key });
  const obj = (v: unknown, key: string): Record<string, unknown> => {
    if (v === undefined) return {};
    if (typeof v !== "object" || v === null || Array.isArray(v))
      throw bad(key, "must be an object");
    return v as Record<string, unknown>;
  };
  const top = obj(raw, "config");
  for (const k of Object.keys(top))
    if (k !== "head" && k !== "train")
      throw bad(k, 'is not a known key (expected "head", "train")');
  const h = obj(top.head, "head");
  const t = obj(top.train, "train");
  const known = (o: Record<string, unknown>, keys: object, prefix: string) => {
    for (const k of Object.keys(o))
      if (!(k in keys))
        throw bad(
          `${prefix}.${k}`,
          `is not a known key (expected ${Object.keys(keys).join(", ")})`,
        );
  };
  known(h, DEFAULT_HEAD, "head");
  known(t, DEFAULT_CLASSIFIER_TRAIN, "train");
  const num = (
    o: Record<string, unknown>,
    k: string,
    def: number,
    prefix: string,
    check: (n: number) => boolean,
    what: string,
  ): number => {
    const v = o[k] ?? def;
    if (typeof v !== "number" || !Number.isFinite(v) || !check(v))
      throw bad(`${prefix}.${k}`, `must be ${what}, got ${JSON.stringify(v)}`);
    return v;
  };
  const ints = (o: Record<string, unknown>, k: string, def: number[], prefix: string): number[] => {
    const v = o[k] ?? def;
    if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || x < 1))
      throw bad(`${prefix}.${k}`, `must be a list of positive integers, got ${JSON.stringify(v)}`);
    return v as number[];
  };
  const bool = (o: Record<string, unknown>, k: string, def: boolean, prefix: string): boolean => {
    const v = o[k] ?? def;
    if (typeof v !== "boolean")
      throw bad(`${prefix}.${k}`, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const int = (n: number) => Number.isInteger(n);
  const pooling = h.pooling ?? DEFAULT_HEAD.pooling;
  if (pooling !== "max" && pooling !== "mean" && pooling !== "lse")
    throw bad("head.pooling", `must be "max", "mean" or "lse", got ${JSON.stringify(pooling)}`);
  const channels = h.channels ?? DEFAULT_HEAD.channels;
  if (channels !== "all" && channels !== "density")
    throw bad("head.channels", `must be "all" or "density", got ${JSON.stringify(channels)}`);
  const head: ClassifierHeadConfig = {
    region: bool(h, "region", DEFAULT_HEAD.region, "head"),
    density: num(
      h,
      "density",
      DEFAULT_HEAD.density,
      "head",
      (n) => int(n) && n >= 0,
      "a non-negative integer",
    ),
    channels,
    standardize: bool(h, "standardize", DEFAULT_HEAD.standardize, "head"),
    conv: ints(h, "conv", DEFAULT_HEAD.conv, "head"),
    detector: num(
      h,
      "detector",
      DEFAULT_HEAD.detector,
      "head",
      (n) => int(n) && n >= 0,
      "a non-negative integer",
    ),
    detectorKernel: num(
      h,
      "detectorKernel",
      DEFAULT_HEAD.detectorKernel,
      "head",
      (n) => int(n) && n >= 1 && n % 2 === 1,
      "a positive odd integer",
    ),
    bins: ints(h, "bins", DEFAULT_HEAD.bins, "head"),
    pooling,
    sharpness: num(h, "sharpness", DEFAULT_HEAD.sharpness, "head", (n) => n > 0, "positive"),
    dense: ints(h, "dense", DEFAULT_HEAD.dense, "head"),
    dropout: num(h, "dropout", DEFAULT_HEAD.dropout, "head", (n) => n >= 0 && n < 1, "in [0, 1)"),
    freezeEncoder: bool(h, "freezeEncoder", DEFAULT_HEAD.freezeEncoder, "head"),
    seed: num(h, "seed", DEFAULT_HEAD.seed, "head", int, "an integer"),
  };
  if (head.bins.length === 0) throw bad("head.bins", "must not be empty");
  if (head.channels === "density" && head.density === 0)
    throw bad("head.channels", '"density" needs a density channel (head.density > 0)');
  const cw = t.classWeight ?? DEFAULT_CLASSIFIER_TRAIN.classWeight;
  if (
    !(
      cw === "balanced" ||
      cw === "none" ||
      (Array.isArray(cw) && cw.length === 2 && cw.every((w) => typeof w === "number" && w > 0))
    )
  ) {
    throw bad(
      "train.classWeight",
      `must be "balanced", "none" or [w0, w1] with positive weights, got ${JSON.stringify(cw)}`,
    );
  }
  const train: ClassifierTrainConfig = {
    epochs: num(
      t,
      "epochs",
      DEFAULT_CLASSIFIER_TRAIN.epochs,
      "train",
      (n) => int(n) && n >= 1,
      "a positive integer",
    ),
    learningRate: num(
      t,
      "learningRate",
      DEFAULT_CLASSIFIER_TRAIN.learningRate,
      "train",
      (n) => n > 0 && n < 1,
      "in (0, 1)",
    ),
    clipNorm: num(t, "clipNorm", DEFAULT_CLASSIFIER_TRAIN.clipNorm, "train", (n) => n >= 0, ">= 0"),
    classWeight: cw as ClassifierTrainConfig["classWeight"],
    patience: num(
      t,
      "patience",
      DEFAULT_CLASSIFIER_TRAIN.patience,
      "train",
      (n) => int(n) && n >= 1,
      "a positive integer",
    ),
    seed: num(t, "seed", DEFAULT_CLASSIFIER_TRAIN.seed, "train", int, "an integer"),
    batchSize: num(
      t,
      "batchSize",
      DEFAULT_CLASSIFIER_TRAIN.batchSize,
      "train",
      (n) => int(n) && n >= 1,
      "a positive integer",
    ),
    augment: bool(t, "augment", DEFAULT_CLASSIFIER_TRAIN.augment, "train"),
  };
  return { head, train };
}

/** The loss weights [w0, w1] for a class-weight setting and the training labels. */
export function resolveClassWeight(
  cw: ClassifierTrainConfig["classWeight"],
  labels: readonly number[],
): [number, number] {
  if (cw === "none") return [1, 1];
  if (Array.isArray(cw)) return cw;
  const pos = labels.filter((y) => y === 1).length;
  const neg = labels.length - pos;
  if (pos === 0 || neg === 0) return [1, 1];
  return [labels.length / (2 * neg), labels.length / (2 * pos)];
}
