import { GmcaeError } from "./errors.js";

/** The network (kdsb17's GMCAE), see ARCHITECTURE.md "Models". */
export interface GmcaeConfig {
  /** Edge of the cubic input patch in voxels (1 mm each); divisible by 2^levels. Default 32. */
  patchSize: number;
  /** Filters per encoder level (the decoder mirrors them); its length is the number of levels. Default [64, 128, 256]. */
  filters: number[];
  /** Edge of every 3D convolution kernel (odd or even, >= 1). Default 3. */
  kernelSize: number;
  /** Number of Gaussian mixture components m. Default 4. */
  m: number;
  /** Batch normalisation after every encoder/decoder convolution. Default false. */
  batchNorm: boolean;
  /** Filters of the conv opening each head (log-priors, variances). Default 16. */
  headFilters: number;
  /** Units of each head's hidden dense layer. Default 128. */
  headDense: number;
  /** Seed of the weight initialisers. Default 1. */
  seed: number;
}

/** The training run. */
export interface TrainConfig {
  /** Maximum number of epochs. Default 100. */
  epochs: number;
  /** Training batches per epoch. Default 100. */
  stepsPerEpoch: number;
  /** Validation batches per epoch (0: choose the best checkpoint by training loss). Default 20. */
  validationSteps: number;
  /** Patches per batch (used by the data source; the loop takes what it gets). Default 8. */
  batchSize: number;
  /** Adam learning rate. Default 1e-4 (kdsb17). */
  learningRate: number;
  /** Adam beta1 / beta2 / epsilon. Defaults 0.9 / 0.999 / 1e-7. */
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Gradients are rescaled so their global L2 norm is at most this (0: no clipping). Default 1. */
  clipNorm: number;
  /** Early stopping: epochs without a better validation loss before stopping (0: never). Default 10. */
  patience: number;
  /** Smallest variance the loss accepts, in normalised units squared (sigma >= 1e-3 ~ 0.7 HU). Default 1e-6. */
  varianceFloor: number;
  /** Seed of the run's RNG (per-epoch data seeds). Default 1. */
  seed: number;
}

export const DEFAULT_GMCAE_CONFIG: Readonly<GmcaeConfig> = Object.freeze({
  patchSize: 32,
  filters: [64, 128, 256],
  kernelSize: 3,
  m: 4,
  batchNorm: false,
  headFilters: 16,
  headDense: 128,
  seed: 1,
});

export const DEFAULT_TRAIN_CONFIG: Readonly<TrainConfig> = Object.freeze({
  epochs: 100,
  stepsPerEpoch: 100,
  validationSteps: 20,
  batchSize: 8,
  learningRate: 1e-4,
  beta1: 0.9,
  beta2: 0.999,
  epsilon: 1e-7,
  clipNorm: 1,
  patience: 10,
  varianceFloor: 1e-6,
  seed: 1,
});

type Rule =
  | { kind: "int"; min: number; max: number }
  | { kind: "num"; min: number; max: number; minExclusive?: boolean }
  | { kind: "bool" }
  | { kind: "intList"; min: number; max: number; minLen: number; maxLen: number };

const MODEL_RULES: Record<keyof GmcaeConfig, Rule> = {
  patchSize: { kind: "int", min: 4, max: 256 },
  filters: { kind: "intList", min: 1, max: 1024, minLen: 1, maxLen: 6 },
  kernelSize: { kind: "int", min: 1, max: 7 },
  m: { kind: "int", min: 1, max: 64 },
  batchNorm: { kind: "bool" },
  headFilters: { kind: "int", min: 1, max: 1024 },
  headDense: { kind: "int", min: 1, max: 8192 },
  seed: { kind: "int", min: 0, max: 2 ** 32 - 1 },
};

const TRAIN_RULES: Record<keyof TrainConfig, Rule> = {
  epochs: { kind: "int", min: 1, max: 1_000_000 },
  stepsPerEpoch: { kind: "int", min: 1, max: 10_000_000 },
  validationSteps: { kind: "int", min: 0, max: 10_000_000 },
  batchSize: { kind: "int", min: 1, max: 4096 },
  learningRate: { kind: "num", min: 0, max: 10, minExclusive: true },
  beta1: { kind: "num", min: 0, max: 0.999999 },
  beta2: { kind: "num", min: 0, max: 0.99999999 },
  epsilon: { kind: "num", min: 0, max: 1, minExclusive: true },
  clipNorm: { kind: "num", min: 0, max: 1e12 },
  patience: { kind: "int", min: 0, max: 1_000_000 },
  varianceFloor: { kind: "num", min: 0, max: 1, minExclusive: true },
  seed: { kind: "int", min: 0, max: 2 ** 32 - 1 },
};

function check(path: string, v: unknown, rule: Rule, issues: string[]): void {
  const range = (x: number, min: number, max: number, excl?: boolean) =>
    (excl ? x <= min : x < min) || x > max
      ? `${path}: ${x} is out of range (${excl ? "> " : ">= "}${min} and <= ${max})`
      : undefined;
  if (rule.kind === "bool") {
    if (typeof v !== "boolean")
      issues.push(`${path}: expected true or false, got ${JSON.stringify(v)}`);
    return;
  }
  if (rule.kind === "intList") {
    if (!Array.isArray(v)) {
      issues.push(`${path}: expected an array of integers, got ${JSON.stringify(v)}`);
      return;
    }
    if (v.length < rule.minLen || v.length > rule.maxLen)
      issues.push(`${path}: expected ${rule.minLen}-${rule.maxLen} entries, got ${v.length}`);
    v.forEach((x, i) => {
      check(`${path}[${i}]`, x, { kind: "int", min: rule.min, max: rule.max }, issues);
    });
    return;
  }
  if (typeof v !== "number" || !Number.isFinite(v)) {
    issues.push(
      `${path}: expected a ${rule.kind === "int" ? "integer" : "number"}, got ${JSON.stringify(v)}`,
    );
    return;
  }
  if (rule.kind === "int" && !Number.isInteger(v)) {
    issues.push(`${path}: expected an integer, got ${v}`);
    return;
  }
  const r = range(v, rule.min, rule.max, rule.kind === "num" ? rule.minExclusive : false);
  if (r) issues.push(r);
}

function section<T extends object>(
  name: string,
  raw: unknown,
  rules: Record<keyof T, Rule>,
  defaults: Readonly<T>,
  issues: string[],
): T {
  const out = { ...defaults } as T;
  if (raw === undefined) return out;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    issues.push(`${name}: expected an object, got ${JSON.stringify(raw)}`);
    return out;
  }
  for (const [k, v] of Object.entries(raw)) {
    if (!(k in rules)) {
      issues.push(`${name}.${k}: unknown key (known: ${Object.keys(rules).join(", ")})`);
      continue;
    }
    const before = issues.length;
    check(`${name}.${k}`, v, rules[k as keyof T], issues);
    if (issues.length === before)
      (out as Record<string, unknown>)[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

/** A complete run configuration: what `--config file.json` holds (both sections optional). */
export interface RunConfig {
  model: GmcaeConfig;
  train: TrainConfig;
}

/**
 * Validates a run configuration (`{ "model": {...}, "train": {...} }`, every key optional,
 * defaults above) and fills defaults. Throws `GmcaeError` `BAD_CONFIG` listing every
 * problem (unknown keys, wrong types, out-of-range values, patch size not divisible by
 * 2^levels), naming `source` (e.g. the file).
 */
export function parseRunConfig(raw: unknown, source = "config"): RunConfig {
  const issues: string[] = [];
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new GmcaeError(
      "BAD_CONFIG",
      `${source}: expected a JSON object with "model" and/or "train"`,
      {
        source,
        issues: ["not an object"],
      },
    );
  }
  for (const k of Object.keys(raw)) {
    if (k !== "model" && k !== "train") issues.push(`${k}: unknown key (known: model, train)`);
  }
  const r = raw as { model?: unknown; train?: unknown };
  const model = section<GmcaeConfig>("model", r.model, MODEL_RULES, DEFAULT_GMCAE_CONFIG, issues);
  const train = section<TrainConfig>("train", r.train, TRAIN_RULES, DEFAULT_TRAIN_CONFIG, issues);
  const div = 2 ** model.filters.length;
  if (model.patchSize % div !== 0) {
    issues.push(
      `model.patchSize: ${model.patchSize} is not divisible by 2^levels = ${div} (levels = filters.length)`,
    );
  }
  if (issues.length) {
    throw new GmcaeError(
      "BAD_CONFIG",
      `${source}: invalid configuration:\n  ${issues.join("\n  ")}`,
      {
        source,
        issues,
      },
    );
  }
  return { model, train };
}

/** Validates and completes a model config alone (same rules as `parseRunConfig`). */
export function gmcaeConfig(partial: Partial<GmcaeConfig> = {}, source = "config"): GmcaeConfig {
  return parseRunConfig({ model: partial }, source).model;
}

/** Validates and completes a training config alone. */
export function trainConfig(partial: Partial<TrainConfig> = {}, source = "config"): TrainConfig {
  return parseRunConfig({ train: partial }, source).train;
}
