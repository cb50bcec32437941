import type { Vec3 } from "@lungflow/volume";
import { createRng, mixSeed, shuffled } from "@lungflow/volume";
import {
  type AugmentOptions,
  augmentedShape,
  drawParams,
  type PatchTransform,
  type ResolvedAugment,
  resolveAugment,
  transformsOf,
} from "./augment.js";
import { PatchStreamError } from "./errors.js";
import { type PatientSelection, resolvePatients } from "./patients.js";
import { defaultWorkers, type EpochRange, PatchPool, streamEpochs } from "./pool.js";
import { type BridgeStats, pullBridge } from "./pull-bridge.js";
import { type PatchSource, type PatientInfo, sourceSpec } from "./source.js";

/** Options of the whole-volume stream (the classifier's input: one cropped lung per element). */
export interface VolumeStreamOptions extends PatientSelection {
  /** Seed of the patient order and the augmentation (default 0). */
  seed?: number;
  /** Shuffle the patients each epoch (default true). */
  shuffle?: boolean;
  /** Augmentation and normalisation (default: 48 symmetries); `false` = normalise only (validation, prediction). */
  augment?: AugmentOptions | false;
  /** Require a label on every patient (default true; `false` for prediction). */
  requireLabels?: boolean;
  /** Worker threads (default cores - 1). */
  workers?: number;
  /** Volumes prepared at once (default = workers). */
  maxInFlight?: number;
  /** Finished volumes waiting for the consumer (default 1: whole volumes are large). */
  queueSize?: number;
  /** Each worker's decoded-volume cache, MiB (default 256). */
  cacheMiB?: number;
  /**
   * Outside each patient's lung region (lung-segmentation's `lungRegion` of the stored mask)
   * read as air, as the classifier's `region` option wants (default false; store sources only).
   */
  region?: boolean;
  signal?: AbortSignal;
  /** Where the start-up summary goes (default stderr; `false` = silent). */
  log?: ((line: string) => void) | false;
}

/** One augmented, normalised lung volume `[Z, Y, X]` (axes permuted by the symmetry). */
export interface VolumeItem {
  epoch: number;
  index: number;
  patientId: string;
  label?: 0 | 1;
  data: Float32Array;
  shape: Vec3;
  transforms: PatchTransform[];
}

/** Whole lung volumes through the same workers and transforms as the patches. Close it. */
export class VolumeStream {
  readonly patients: PatientInfo[];
  readonly pool: PatchPool;
  readonly memoryEstimate: number;
  stats: BridgeStats | undefined;
  readonly #augment: ResolvedAugment;
  readonly #source: PatchSource;
  readonly #o: {
    seed: number;
    shuffle: boolean;
    maxInFlight: number;
    queueSize: number;
    cacheBytes: number;
    region: boolean;
    signal?: AbortSignal;
  };

  private constructor(source: PatchSource, patients: PatientInfo[], opts: VolumeStreamOptions) {
    if (opts.requireLabels ?? true) {
      const missing = patients.filter((p) => p.label === undefined).map((p) => p.id);
      if (missing.length) {
        throw new PatchStreamError(
          "NO_LABEL",
          `${missing.length} patients have no label (e.g. ${missing.slice(0, 3).join(", ")}); import labels or pass requireLabels: false`,
          {
            patientIds: missing,
          },
        );
      }
    }
    this.#augment = resolveAugment(opts.augment);
    this.#source = source;
    const workers = opts.workers ?? defaultWorkers();
    this.#o = {
      seed: opts.seed ?? 0,
      shuffle: opts.shuffle ?? true,
      maxInFlight: opts.maxInFlight ?? workers,
      queueSize: opts.queueSize ?? 1,
      cacheBytes: (opts.cacheMiB ?? 256) * 2 ** 20,
      region: opts.region ?? false,
      signal: opts.signal,
    };
    this.patients = patients;
    const maxVox = Math.max(...patients.map((p) => p.shape[0] * p.shape[1] * p.shape[2]));
    this.memoryEstimate =
      (this.#o.maxInFlight + this.#o.queueSize) * maxVox * 4 +
      (typeof source === "string"
        ? workers * Math.min(this.#o.cacheBytes, patients.length * maxVox * 2)
        : 0);
    this.pool = new PatchPool(workers);
    const log = opts.log === undefined ? (l: string) => process.stderr.write(`${l}\n`) : opts.log;
    if (log) {
      log(
        `volume stream: ${patients.length} patients per epoch, largest ${maxVox} voxels; memory ~ ${(this.memoryEstimate / 2 ** 20).toFixed(1)} MiB`,
      );
    }
  }

  static async open(source: PatchSource, opts: VolumeStreamOptions = {}): Promise<VolumeStream> {
    return new VolumeStream(source, await resolvePatients(source, opts), opts);
  }

  /** Streams one epoch: every selected patient once, in a seeded order. */
  epoch(epoch: number, signal?: AbortSignal): AsyncIterableIterator<VolumeItem> {
    const { seed } = this.#o;
    const order = this.#o.shuffle
      ? shuffled(this.patients, createRng(mixSeed(seed, epoch, 5)))
      : this.patients;
    async function* plan() {
      yield* order;
    }
    const signals = [this.#o.signal, signal].filter((s): s is AbortSignal => !!s);
    const it = pullBridge<PatientInfo, VolumeItem>(
      plan(),
      async (p, index, s) => {
        const pseed = mixSeed(seed, epoch, 6, index);
        const data = await this.pool.run<Float32Array>(
          {
            kind: "volume",
            source: sourceSpec(this.#source, [p.id]),
            patientId: p.id,
            seed: pseed,
            augment: this.#augment,
            cacheBytes: this.#o.cacheBytes,
            region: this.#o.region,
          },
          s,
          { patientId: p.id, epoch },
        );
        const drawn = drawParams(pseed, this.#augment);
        return {
          epoch,
          index,
          patientId: p.id,
          label: p.label,
          data,
          shape: augmentedShape(p.shape, drawn.symmetry),
          transforms: transformsOf(drawn, this.#augment),
        };
      },
      {
        concurrency: this.#o.maxInFlight,
        capacity: this.#o.maxInFlight + this.#o.queueSize,
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      },
    );
    this.stats = it.stats;
    return it;
  }

  close(): Promise<void> {
    return this.pool.destroy();
  }
}

/** tf-free whole-volume stream over `epochs` epochs (default 1); closes its workers at the end. */
export async function* volumeBatches(
  source: PatchSource,
  opts: VolumeStreamOptions & EpochRange = {},
): AsyncGenerator<VolumeItem> {
  yield* streamEpochs(await VolumeStream.open(source, opts), opts);
}
