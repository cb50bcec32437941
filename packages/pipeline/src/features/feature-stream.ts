import { featureSymmetries } from "@lungflow/classifier";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import { createRng, mixSeed, shuffled } from "@lungflow/volume";
import { PatchStreamError } from "../patches/errors.js";
import { type PatientSelection, resolvePatients } from "../patches/patients.js";
import { type BridgeStats, pullBridge } from "../patches/pull-bridge.js";
import type { PatientInfo } from "../patches/source.js";

/** Options of {@link FeatureStream}. */
export interface FeatureStreamOptions extends PatientSelection {
  /** Which stored features (`lungflow features` prints the id). */
  encoderId: string;
  /**
   * Symmetries to draw from: the first K of `featureSymmetries` (default 1: identity only).
   * Every selected patient must have all K stored.
   */
  symmetries?: number;
  /** Draw one of the K symmetries per patient and epoch (default true when K > 1). */
  augment?: boolean;
  /** Seed of the order and the draws (default 0). */
  seed?: number;
  /** Shuffle the patients each epoch (default true). */
  shuffle?: boolean;
  /** Require a label on every patient (default true). */
  requireLabels?: boolean;
  /** Feature arrays read ahead of the consumer (default 4). */
  prefetch?: number;
  signal?: AbortSignal;
}

/** One patient's stored feature map `[z, y, x, c]` for one symmetry. */
export interface FeatureItem {
  epoch: number;
  index: number;
  patientId: string;
  label?: 0 | 1;
  symmetry: number;
  data: Float32Array;
  shape: [number, number, number, number];
}

/**
 * Stored encoder features as a stream of epochs (the classifier head's input), read ahead
 * through the pipeline's bounded bridge (a slow consumer slows the reads; memory stays at
 * `prefetch` arrays). Per epoch: the patients in a seeded order, each with one of its K
 * stored symmetries drawn from (seed, epoch, patient) — the 48-fold augmentation, paid once
 * at `lungflow features` time instead of at every step.
 */
export class FeatureStream {
  readonly patients: PatientInfo[];
  readonly symmetries: number[];
  /** Counters of the epoch being read. */
  stats: BridgeStats | undefined;
  readonly #store: PatchStore;
  readonly #o: FeatureStreamOptions;

  private constructor(store: PatchStore, patients: PatientInfo[], o: FeatureStreamOptions) {
    this.#store = store;
    this.patients = patients;
    this.symmetries = featureSymmetries(o.symmetries ?? 1);
    this.#o = o;
  }

  static async open(store: string, o: FeatureStreamOptions): Promise<FeatureStream> {
    const patients = await resolvePatients(store, o);
    if (o.requireLabels ?? true) {
      const missing = patients.filter((p) => p.label === undefined).map((p) => p.id);
      if (missing.length)
        throw new PatchStreamError(
          "NO_LABEL",
          `${missing.length} patients have no label (e.g. ${missing.slice(0, 3).join(", ")})`,
          { patientIds: missing },
        );
    }
    const s = await openStore(store);
    const fs = new FeatureStream(s, patients, o);
    const lacking: string[] = [];
    for (const p of patients) {
      const have = new Set(
        (await s.listFeatures(p.id)).find((f) => f.encoderId === o.encoderId)?.symmetries ?? [],
      );
      if (fs.symmetries.some((k) => !have.has(k))) lacking.push(p.id);
    }
    if (lacking.length)
      throw new PatchStreamError(
        "NO_FEATURES",
        `${lacking.length} patient(s) lack features ${o.encoderId} for symmetries ${fs.symmetries.join(",")} (e.g. ${lacking.slice(0, 3).join(", ")}): run \`lungflow features --store ${store} --gmcae <run> --symmetries ${fs.symmetries.length}\``,
        { patientIds: lacking, encoderId: o.encoderId },
      );
    return fs;
  }

  /** One epoch: every selected patient once, each with a drawn (or the identity) symmetry. */
  epoch(epoch: number, signal?: AbortSignal): AsyncIterableIterator<FeatureItem> {
    const seed = this.#o.seed ?? 0;
    const augment = (this.#o.augment ?? true) && this.symmetries.length > 1;
    const order =
      (this.#o.shuffle ?? true)
        ? shuffled(this.patients, createRng(mixSeed(seed, epoch, 7)))
        : this.patients;
    const tasks = order.map((p, index) => {
      const k = augment
        ? this.symmetries[createRng(mixSeed(seed, epoch, 8, index)).int(this.symmetries.length)]
        : this.symmetries[0];
      return { p, k };
    });
    return this.#read(tasks, epoch, signal);
  }

  /** Every selected patient with each of its K symmetries, in patient order (test-time augmentation). */
  all(signal?: AbortSignal): AsyncIterableIterator<FeatureItem> {
    return this.#read(
      this.patients.flatMap((p) => this.symmetries.map((k) => ({ p, k }))),
      0,
      signal,
    );
  }

  #read(
    tasks: { p: PatientInfo; k: number }[],
    epoch: number,
    signal?: AbortSignal,
  ): AsyncIterableIterator<FeatureItem> {
    const signals = [this.#o.signal, signal].filter((s): s is AbortSignal => !!s);
    async function* plan() {
      yield* tasks;
    }
    const prefetch = this.#o.prefetch ?? 4;
    const it = pullBridge(
      plan(),
      async ({ p, k }, index, s) => {
        const f = await this.#store.readFeatures(p.id, this.#o.encoderId, k, { signal: s });
        if (!f)
          throw new PatchStreamError(
            "NO_FEATURES",
            `features ${this.#o.encoderId}/s${k} of patient ${p.id} disappeared from the store`,
            { patientId: p.id },
          );
        return {
          epoch,
          index,
          patientId: p.id,
          label: p.label,
          symmetry: k,
          data: f.data,
          shape: f.shape,
        };
      },
      {
        concurrency: Math.max(1, Math.min(2, prefetch)),
        capacity: prefetch,
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
      },
    );
    this.stats = it.stats;
    return it;
  }

  /** Nothing to stop (reads run in this thread); for the dataset interface. */
  async close(): Promise<void> {}
}
