import { nativeKernel, wasmModule } from "@lungflow/patch-kernels";
import type { PatchLocation, PatchSampler } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";
import { createRng, mixSeed, shuffled } from "@lungflow/volume";
import {
  type AugmentOptions,
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
import { ShuffleBuffer } from "./shuffle-buffer.js";
import { type PatchSource, type PatientInfo, sourceSpec } from "./source.js";

/** Which code cuts and augments the patches in the workers. */
export type PatchKernel = "native" | "wasm" | "js";

/** The fastest kernel available here: native, else wasm, else js. */
export function defaultKernel(): PatchKernel {
  if (!wasmModule()) return "js";
  return nativeKernel() ? "native" : "wasm";
}

/** Batches a consumer holds besides the stream's queue: tf.data's default prefetch of 2, the one in hand, one disposed late. */
const CONSUMER_HELD = 4;

/** Shared buffers for every batch that can be out at once: the stream's queue plus `held` in the consumer's hands. */
export function sharedBuffersFor(
  opts: Pick<PatchStreamOptions, "workers" | "maxInFlight" | "queueSize">,
  held = CONSUMER_HELD,
): number {
  const q = streamQueue(opts);
  return q.maxInFlight + q.queueSize + held;
}

/** The stream's worker count and queue bounds, defaults applied. */
function streamQueue(opts: Pick<PatchStreamOptions, "workers" | "maxInFlight" | "queueSize">): {
  workers: number;
  maxInFlight: number;
  queueSize: number;
} {
  const workers = opts.workers ?? defaultWorkers();
  return { workers, maxInFlight: opts.maxInFlight ?? 2 * workers, queueSize: opts.queueSize ?? 4 };
}

/** Options of the patch stream (TorchIO `Queue` / MONAI `GridPatchDataset` semantics). */
export interface PatchStreamOptions extends PatientSelection {
  /** Where patch locations come from, e.g. `lungSampler({ size: 32 })`. */
  sampler: PatchSampler;
  /** Patches per batch. */
  batchSize: number;
  /** Patches drawn per patient per epoch by random samplers (default 32; grid: all its tiles). */
  patchesPerPatient?: number;
  /** Patients loaded and sampled together (TorchIO's subjects in the queue; default 4). */
  patientsPerRound?: number;
  /** Locations held by the shuffle buffer (default: one round's patches; 0 = no shuffling). */
  shuffleBuffer?: number;
  /** Seed of every random choice (patient order, locations, shuffling, augmentation). Default 0. */
  seed?: number;
  /** Augmentation and normalisation (default: 48 symmetries, no HU offset, clip); `false` = normalise only. */
  augment?: AugmentOptions | false;
  /** Worker threads (default: cores - 1, at least 1). */
  workers?: number;
  /** Batch tasks running at once (default 2 x workers). */
  maxInFlight?: number;
  /** Finished batches waiting for the consumer (default 4). */
  queueSize?: number;
  /** Budget of each worker's decoded-volume cache, MiB (default 512). */
  cacheMiB?: number;
  /**
   * The augmentation kernel: `"native"` (the C++ addon of `@lungflow/patch-kernels`,
   * AVX2; the default where it is built), `"wasm"` (WebAssembly SIMD; the default otherwise)
   * or `"js"`. Native and wasm give bit-identical batches.
   */
  kernel?: PatchKernel;
  /** Drop the last, smaller batch of an epoch (default false). */
  dropRemainder?: boolean;
  /**
   * Batch buffers in shared memory (SharedArrayBuffer), handed to the workers once: a
   * worker fills one in place and nothing moves between threads per batch. A buffer comes
   * back into use only through {@link PatchStream.recycle} (a batch's `data.buffer`); when
   * none is free, batches are fresh buffers moved from the workers. `"auto"`: the stream's
   * queue (maxInFlight + queueSize) plus 4 held by the consumer (tf.data's prefetch of 2, the
   * batch in hand, one disposed late). Default 0 (none) here; `patchDataset` uses the queue
   * plus its `prefetch` plus 2 unless `recycle` is false. Moving buffers costs the main thread per byte: V8 counts
   * each arriving one as new external memory and collects garbage for it (with 16 MB
   * batches, over 100 extra collections a second).
   */
  sharedBuffers?: number | "auto";
  signal?: AbortSignal;
  /** Where the start-up summary and memory estimate go (default stderr; `false` = silent). */
  log?: ((line: string) => void) | false;
}

/** One batch: `data` is `[B, d, h, w]` float32 (C order), with where each patch came from. */
export interface PatchBatch {
  epoch: number;
  /** Batch index within the epoch. */
  index: number;
  data: Float32Array;
  shape: [number, number, number, number];
  /** Per patch, where it was cut (built when first read). */
  readonly locations: PatchLocation[];
  /** Per patch, the seed its symmetry and HU offset were drawn from. */
  readonly seeds: Uint32Array;
  /** Per patch, what was applied (replay with `replayTransforms`; drawn again from the patch seeds when first read). */
  readonly transforms: PatchTransform[][];
}

/**
 * A batch whose `locations` and `transforms` are built from its typed arrays (origins,
 * patient indices, patch seeds) only when asked for: most training loops never read them.
 */
class Batch implements PatchBatch {
  #transforms: PatchTransform[][] | undefined;
  #locations: PatchLocation[] | undefined;
  constructor(
    readonly epoch: number,
    readonly index: number,
    readonly data: Float32Array,
    readonly shape: [number, number, number, number],
    readonly plan: BatchPlan,
    readonly size: Vec3,
    readonly augment: ResolvedAugment,
  ) {}
  get seeds(): Uint32Array {
    return this.plan.seeds;
  }
  get locations(): PatchLocation[] {
    if (!this.#locations) {
      const { origins, patients, patientIndex } = this.plan;
      this.#locations = Array.from(patientIndex, (k, i) => ({
        patientId: patients[k],
        origin: [origins[3 * i], origins[3 * i + 1], origins[3 * i + 2]] as Vec3,
        size: this.size,
      }));
    }
    return this.#locations;
  }
  get transforms(): PatchTransform[][] {
    this.#transforms ??= Array.from(this.seeds, (s) =>
      transformsOf(drawParams(s, this.augment), this.augment),
    );
    return this.#transforms;
  }
}

/** One batch to cut: typed arrays, ready to send to a worker. */
interface BatchPlan {
  index: number;
  /** 3 per patch. */
  origins: Int32Array;
  /** The batch's distinct patients, and per patch its index among them. */
  patients: string[];
  patientIndex: Uint32Array;
  seeds: Uint32Array;
}

/** The locations of one round, as arrays: per patch its patient (index into `ids`) and origin. */
interface Round {
  ids: string[];
  patient: Uint16Array;
  origins: Int32Array;
}

/** A configured stream over a fixed set of patients with its own worker pool. Close it. */
export class PatchStream {
  readonly patients: PatientInfo[];
  readonly size: Vec3;
  readonly batchSize: number;
  /** Exact number of patches in one epoch. */
  readonly patchesPerEpoch: number;
  readonly batchesPerEpoch: number;
  /** Estimated peak memory of the stream (worker caches + batches in flight), bytes. */
  readonly memoryEstimate: number;
  readonly pool: PatchPool;
  /** Batches filled into recycled buffers (see {@link PatchStream.recycle}). */
  recycledBatches = 0;
  /** Counters of the epoch being streamed. */
  stats: BridgeStats | undefined;
  /** Shared batch buffers (see PatchStreamOptions.sharedBuffers) free to be filled now. */
  get freeSharedBuffers(): number {
    return this.#freeSlots.length;
  }
  readonly #o: Required<
    Pick<
      PatchStreamOptions,
      | "patchesPerPatient"
      | "patientsPerRound"
      | "shuffleBuffer"
      | "seed"
      | "maxInFlight"
      | "queueSize"
      | "dropRemainder"
    >
  >;
  readonly #augment: ResolvedAugment;
  readonly #source: PatchSource;
  readonly #sampler: PatchSampler;
  readonly #cacheBytes: number;
  readonly #kernel: PatchKernel;
  readonly #signal?: AbortSignal;
  readonly #tiles = new Map<string, number>();
  readonly #spare: ArrayBuffer[] = [];
  /** Shared batch buffers (see PatchStreamOptions.sharedBuffers), views of them, and which are free. */
  readonly #slots: SharedArrayBuffer[];
  readonly #slotViews: Float32Array[];
  readonly #slotOf = new Map<ArrayBufferLike, number>();
  readonly #slotFree: Uint8Array;
  readonly #freeSlots: number[] = [];
  readonly #slotUsed: Uint8Array;
  /** Aborted by close(): stops work started ahead of an epoch. */
  readonly #closing = new AbortController();
  /** The first round of the next epoch, sampled while the current one is being cut. */
  #ahead: { epoch: number; round: Promise<Round> } | undefined;

  private constructor(source: PatchSource, patients: PatientInfo[], opts: PatchStreamOptions) {
    const B = opts.batchSize;
    if (!(Number.isInteger(B) && B >= 1))
      throw new PatchStreamError("BAD_OPTION", `batchSize must be an integer >= 1, got ${B}`, {
        batchSize: B,
      });
    const ppp = opts.patchesPerPatient ?? 32;
    const ppr = opts.patientsPerRound ?? 4;
    for (const [k, v] of Object.entries({ patchesPerPatient: ppp, patientsPerRound: ppr })) {
      if (!(Number.isInteger(v) && v >= 1))
        throw new PatchStreamError("BAD_OPTION", `${k} must be an integer >= 1, got ${v}`, {
          [k]: v,
        });
    }
    this.#augment = resolveAugment(opts.augment);
    const size = opts.sampler.size;
    if (this.#augment.symmetry && !(size[0] === size[1] && size[1] === size[2])) {
      throw new PatchStreamError(
        "BAD_OPTION",
        `symmetry augmentation needs cubic patches, got ${size.join("x")} (use augment: { symmetry: false })`,
        {
          size,
        },
      );
    }
    const { workers, maxInFlight, queueSize } = streamQueue(opts);
    this.#o = {
      patchesPerPatient: ppp,
      patientsPerRound: ppr,
      shuffleBuffer: opts.shuffleBuffer ?? ppr * ppp,
      seed: opts.seed ?? 0,
      maxInFlight,
      queueSize,
      dropRemainder: opts.dropRemainder ?? false,
    };
    if (!(Number.isInteger(this.#o.shuffleBuffer) && this.#o.shuffleBuffer >= 0)) {
      throw new PatchStreamError(
        "BAD_OPTION",
        `shuffleBuffer must be an integer >= 0, got ${this.#o.shuffleBuffer}`,
        {},
      );
    }
    this.#source = source;
    this.#sampler = opts.sampler;
    this.#signal = opts.signal;
    this.#cacheBytes = (opts.cacheMiB ?? 512) * 2 ** 20;
    this.#kernel = opts.kernel ?? defaultKernel();
    if (this.#kernel === "native" && !(wasmModule() && nativeKernel()))
      throw new PatchStreamError(
        "BAD_OPTION",
        'kernel: "native" needs the native addon of @lungflow/patch-kernels and WebAssembly; use "wasm" or "js"',
        { kernel: "native" },
      );
    this.patients = patients;
    this.size = size;
    this.batchSize = B;
    let total = 0;
    for (const p of patients) {
      if (opts.sampler.exhaustive) {
        let n = 0;
        for (const _ of opts.sampler.sample({ id: p.id, shape: p.shape })) n++;
        this.#tiles.set(p.id, n);
        total += n;
      } else total += ppp;
    }
    this.patchesPerEpoch = this.#o.dropRemainder ? Math.floor(total / B) * B : total;
    this.batchesPerEpoch = this.#o.dropRemainder ? Math.floor(total / B) : Math.ceil(total / B);
    const per = size[0] * size[1] * size[2];
    const batchBytes = B * per * 4;
    const shared =
      opts.sharedBuffers === "auto" ? sharedBuffersFor(opts) : (opts.sharedBuffers ?? 0);
    if (!(Number.isInteger(shared) && shared >= 0))
      throw new PatchStreamError(
        "BAD_OPTION",
        `sharedBuffers must be an integer >= 0, got ${shared}`,
        {
          sharedBuffers: shared,
        },
      );
    this.#slots = Array.from({ length: shared }, () => new SharedArrayBuffer(batchBytes));
    this.#slotViews = this.#slots.map((b) => new Float32Array(b));
    this.#slotFree = new Uint8Array(shared).fill(1);
    this.#slotUsed = new Uint8Array(shared);
    for (let k = shared - 1; k >= 0; k--) {
      this.#slotOf.set(this.#slots[k], k);
      this.#freeSlots.push(k);
    }
    const vol = Math.max(...patients.map((p) => p.shape[0] * p.shape[1] * p.shape[2]));
    const volBytes = vol * (2 + (opts.sampler.needs.mask ? 1 : 0));
    // Store volumes are decoded into each worker; memory volumes are shared, but the wasm
    // kernel keeps its own copy of the HU volume in each worker.
    const cachePerWorker = Math.min(
      this.#cacheBytes,
      2 * ppr * (typeof source === "string" ? volBytes : 2 * vol),
    );
    const batches = Math.max(maxInFlight + queueSize, shared);
    this.memoryEstimate = workers * cachePerWorker + batches * batchBytes;
    this.pool = new PatchPool(workers, shared ? { slots: this.#slots } : undefined);
    const log = opts.log === undefined ? (l: string) => process.stderr.write(`${l}\n`) : opts.log;
    if (log) {
      const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
      log(
        `patch stream: ${patients.length} patients, ${opts.sampler.spec.name} sampler, ${size.join("x")} patches, ` +
          `${opts.sampler.exhaustive ? "all tiles" : `${ppp} per patient`}, ${ppr} patients per round, ` +
          `shuffle buffer ${this.#o.shuffleBuffer}; epoch = ${this.patchesPerEpoch} patches = ${this.batchesPerEpoch} batches of ${B}; ` +
          `memory ~ ${mib(this.memoryEstimate)} (${workers} workers x ${mib(cachePerWorker)} volume cache + ` +
          `${batches} batches x ${mib(batchBytes)}${shared ? `, ${shared} of them shared` : ""})`,
      );
    }
  }

  /** Resolves the patients, validates the options and starts the worker pool. */
  static async open(source: PatchSource, opts: PatchStreamOptions): Promise<PatchStream> {
    const patients = await resolvePatients(source, opts);
    return new PatchStream(source, patients, opts);
  }

  /** The locations of one round of patients, in patient order (sampled in the workers when the sampler reads arrays). */
  async #sampleRound(
    epoch: number,
    round: PatientInfo[],
    first: number,
    signal: AbortSignal,
  ): Promise<Round> {
    const s = this.#sampler;
    const seeds = round.map((_, k) => mixSeed(this.#o.seed, epoch, 4, first + k));
    const lists = await Promise.all(
      round.map(async (p, k): Promise<Int32Array> => {
        const count = this.#o.patchesPerPatient;
        if (!s.needs.mask && !s.needs.hu) {
          const o: number[] = [];
          for (const loc of s.sample({ id: p.id, shape: p.shape }, { seed: seeds[k], count }))
            o.push(loc.origin[0], loc.origin[1], loc.origin[2]);
          return Int32Array.from(o);
        }
        return this.pool.run<Int32Array>(
          {
            kind: "sample",
            source: sourceSpec(this.#source, [p.id]),
            patientId: p.id,
            shape: p.shape,
            sampler: s.spec,
            seed: seeds[k],
            count,
            cacheBytes: this.#cacheBytes,
          },
          signal,
          { patientId: p.id, epoch },
        );
      }),
    );
    let n = 0;
    for (const l of lists) n += l.length / 3;
    const out: Round = {
      ids: round.map((p) => p.id),
      patient: new Uint16Array(n),
      origins: new Int32Array(3 * n),
    };
    let at = 0;
    lists.forEach((l, k) => {
      out.origins.set(l, 3 * at);
      out.patient.fill(k, at, at + l.length / 3);
      at += l.length / 3;
    });
    return out;
  }

  /** The rounds of patients of an epoch (the patients shuffled, in groups of patientsPerRound). */
  #rounds(epoch: number): PatientInfo[][] {
    const { seed, patientsPerRound: ppr } = this.#o;
    const order = shuffled(this.patients, createRng(mixSeed(seed, epoch, 1)));
    const rounds: PatientInfo[][] = [];
    for (let i = 0; i < order.length; i += ppr) rounds.push(order.slice(i, i + ppr));
    return rounds;
  }

  /**
   * Starts sampling the first round of `epoch` now (the same locations the epoch would
   * sample itself), so that the next epoch's first batches do not wait for it. Dropped if
   * that epoch never runs; stopped by close().
   */
  #sampleAhead(epoch: number): void {
    const rounds = this.#rounds(epoch);
    if (!rounds.length || this.#closing.signal.aborted) return;
    const signal = this.#signal
      ? AbortSignal.any([this.#signal, this.#closing.signal])
      : this.#closing.signal;
    const round = this.#sampleRound(epoch, rounds[0], 0, signal);
    round.catch(() => {});
    this.#ahead = { epoch, round };
  }

  /** The batch plan of an epoch: rounds of patients -> locations -> shuffle buffer -> batches. */
  async *#plan(epoch: number, signal: AbortSignal): AsyncGenerator<BatchPlan> {
    const { seed, patientsPerRound: ppr, shuffleBuffer } = this.#o;
    // Patches are numbered in the epoch; the shuffle buffer holds numbers, the arrays below
    // hold their patient and origin (rounds are appended as they are sampled).
    const buffer = new ShuffleBuffer<number>(shuffleBuffer, createRng(mixSeed(seed, epoch, 2)));
    const ids: string[] = [];
    let patientOf: Uint32Array = new Uint32Array(0);
    let originOf: Int32Array = new Int32Array(0);
    let count = 0;
    const append = (round: Round) => {
      const base = ids.length;
      ids.push(...round.ids);
      const n = round.patient.length;
      if (count + n > patientOf.length) {
        const cap = Math.max(count + n, 2 * patientOf.length);
        const p = new Uint32Array(cap);
        p.set(patientOf.subarray(0, count));
        patientOf = p;
        const o = new Int32Array(3 * cap);
        o.set(originOf.subarray(0, 3 * count));
        originOf = o;
      }
      for (let i = 0; i < n; i++) patientOf[count + i] = base + round.patient[i];
      originOf.set(round.origins, 3 * count);
      const first = count;
      count += n;
      return first;
    };
    let batch: number[] = [];
    let patchIndex = 0;
    let index = 0;
    const B = this.batchSize;
    const cut = (): BatchPlan => {
      const n = batch.length;
      const seeds = new Uint32Array(n);
      const origins = new Int32Array(3 * n);
      const patientIndex = new Uint32Array(n);
      // The batch's distinct patients once, and an index per patch (cheaper to send than n ids).
      const patients: string[] = [];
      const seen = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const j = batch[i];
        seeds[i] = mixSeed(seed, epoch, 3, patchIndex + i);
        origins[3 * i] = originOf[3 * j];
        origins[3 * i + 1] = originOf[3 * j + 1];
        origins[3 * i + 2] = originOf[3 * j + 2];
        const p = patientOf[j];
        let k = seen.get(p);
        if (k === undefined) {
          k = patients.push(ids[p]) - 1;
          seen.set(p, k);
        }
        patientIndex[i] = k;
      }
      patchIndex += n;
      batch = [];
      return { index: index++, origins, patients, patientIndex, seeds };
    };
    const rounds = this.#rounds(epoch);
    // Sample the next round while the current one is being cut into batches; the first
    // round may already have been sampled at the end of the previous epoch.
    let next: Promise<Round> | undefined;
    if (this.#ahead?.epoch === epoch) next = this.#ahead.round;
    else if (rounds.length) next = this.#sampleRound(epoch, rounds[0], 0, signal);
    this.#ahead = undefined;
    next?.catch(() => {});
    for (let r = 0; r < rounds.length; r++) {
      const round = await next!;
      next =
        r + 1 < rounds.length
          ? this.#sampleRound(epoch, rounds[r + 1], (r + 1) * ppr, signal)
          : undefined;
      next?.catch(() => {});
      const first = append(round);
      for (let i = first; i < count; i++) {
        const out = buffer.push(i);
        if (out !== undefined) batch.push(out);
        if (batch.length === B) yield cut();
      }
    }
    for (const j of buffer.drain()) {
      batch.push(j);
      if (batch.length === B) yield cut();
    }
    // Every batch of this epoch is planned (and queued before it): sample the next
    // epoch's first round while the last batches are cut and consumed.
    this.#sampleAhead(epoch + 1);
    if (batch.length > 0 && !this.#o.dropRemainder) yield cut();
  }

  /**
   * Hands back the buffer of a batch (`batch.data.buffer`) the consumer no longer reads, so
   * a worker fills it again instead of allocating fresh memory: fresh 4 MB buffers per batch
   * cost page faults in the workers and garbage collection on the main thread. Never
   * recycle a buffer still in use: it will be overwritten.
   */
  recycle(buffer: ArrayBufferLike): void {
    const slot = this.#slotOf.get(buffer);
    if (slot !== undefined) {
      if (!this.#slotFree[slot]) {
        this.#slotFree[slot] = 1;
        this.#freeSlots.push(slot);
      }
      return;
    }
    const bytes = this.batchSize * this.size[0] * this.size[1] * this.size[2] * 4;
    if (
      buffer instanceof ArrayBuffer &&
      buffer.byteLength === bytes &&
      this.#spare.length < this.#o.maxInFlight + this.#o.queueSize
    ) {
      this.#spare.push(buffer);
    }
  }

  async #runBatch(epoch: number, plan: BatchPlan, signal: AbortSignal): Promise<PatchBatch> {
    const n = plan.seeds.length;
    const [d, h, w] = this.size;
    const slot = this.#freeSlots.pop();
    const out = slot === undefined ? this.#spare.pop() : undefined;
    if (slot !== undefined) {
      this.#slotFree[slot] = 0;
      if (this.#slotUsed[slot]) this.recycledBatches++;
      this.#slotUsed[slot] = 1;
    } else if (out) this.recycledBatches++;
    const reply = await this.pool.run<Float32Array | number>(
      {
        kind: "patches",
        source: sourceSpec(this.#source, plan.patients),
        size: this.size,
        patients: plan.patients,
        patientIndex: plan.patientIndex,
        origins: plan.origins,
        seeds: plan.seeds,
        augment: this.#augment,
        cacheBytes: this.#cacheBytes,
        kernel: this.#kernel,
        out,
        slot,
      },
      signal,
      { epoch, batch: plan.index, patients: plan.patients },
      out ? [out] : undefined,
      // The buffer of a task that failed or was dropped is free once its worker is done
      // (a moved one only comes back if the task finished anyway).
      slot === undefined
        ? (r) => {
            if (r instanceof Float32Array) this.recycle(r.buffer);
          }
        : () => this.recycle(this.#slots[slot]),
    );
    const data =
      typeof reply === "number"
        ? n * d * h * w === this.#slotViews[reply].length
          ? this.#slotViews[reply]
          : this.#slotViews[reply].subarray(0, n * d * h * w)
        : reply;
    return new Batch(epoch, plan.index, data, [n, d, h, w], plan, this.size, this.#augment);
  }

  /** Streams the batches of epoch `epoch` (deterministic in `seed` and `epoch`). */
  epoch(epoch: number, signal?: AbortSignal): AsyncIterableIterator<PatchBatch> {
    const signals = [this.#signal, signal].filter((s): s is AbortSignal => !!s);
    const plan = new AbortController();
    const it = pullBridge<BatchPlan, PatchBatch>(
      this.#plan(epoch, plan.signal),
      (p, _i, s) => this.#runBatch(epoch, p, s),
      {
        concurrency: this.#o.maxInFlight,
        capacity: this.#o.maxInFlight + this.#o.queueSize,
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
        onStop: () => plan.abort(),
        // Batches finished but never consumed (an epoch stopped early): their buffers.
        onDiscard: (b) => this.recycle(b.data.buffer),
      },
    );
    this.stats = it.stats;
    return it;
  }

  /** Stops the workers. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing.abort();
    this.#ahead = undefined;
    return this.pool.destroy();
  }
}

/**
 * The tf-free stream of augmented patch batches, for benches, tests and custom loops:
 * opens a {@link PatchStream}, yields `epochs` epochs (default 1) from `startEpoch`
 * (default 0), and closes the workers when the loop ends, breaks or throws.
 *
 * ```ts
 * for await (const b of patchBatches("lungs.zarr", { sampler: lungSampler({ size: 32 }), batchSize: 16 })) {
 *   b.data; // Float32Array of 16 * 32^3, values in [-1, 1]
 * }
 * ```
 */
export async function* patchBatches(
  source: PatchSource,
  opts: PatchStreamOptions & EpochRange,
): AsyncGenerator<PatchBatch> {
  yield* streamEpochs(await PatchStream.open(source, opts), opts);
}
