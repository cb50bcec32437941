import { tf } from "@lungflow/tf-runtime";
import {
  type PatchBatch,
  PatchStream,
  type PatchStreamOptions,
  sharedBuffersFor,
} from "./patch-stream.js";
import type { BridgeStats } from "./pull-bridge.js";
import type { PatchSource } from "./source.js";
import { type VolumeItem, VolumeStream, type VolumeStreamOptions } from "./volume-stream.js";

/** A tf.data dataset fed by the patch workers, with its shutdown. */
export interface StreamDataset<T extends tf.TensorContainer> {
  /** Each iteration of the dataset (each `fitDataset` epoch) streams the next epoch. */
  dataset: tf.data.Dataset<T>;
  /**
   * A dataset whose every iteration streams epoch `e` (0-based): what a trainer asks for per
   * epoch, so a resumed run streams the same epochs as an uninterrupted one. At most one
   * epoch of the stream runs at a time; starting another stops the one before.
   */
  forEpoch(e: number): tf.data.Dataset<T>;
  /** Stops the workers; the dataset must not be iterated afterwards. */
  close(): Promise<void>;
  /** Counters of the epoch being streamed (in-flight tasks, buffered batches). */
  readonly stats: BridgeStats | undefined;
}

export interface DatasetOptions {
  /** Elements tf.data prefetches ahead of the training loop (default 2). */
  prefetch?: number;
  /** Epoch number of the first iteration (resume: the epochs' randomness is keyed on it). Default 0. */
  startEpoch?: number;
}

/** Options of {@link patchDataset}. */
export interface PatchDatasetOptions extends PatchStreamOptions, DatasetOptions {
  /**
   * Refill the buffers of batches whose tensors tf has released (both `xs` and `ys`
   * disposed, backend reference count 0) instead of allocating 4 MB per batch: fewer page
   * faults in the workers and much less garbage collection here; the buffers are shared
   * memory the workers write into (`sharedBuffers`, default: the stream's queue + `prefetch`
   * + 2). Default true. The one
   * caveat: on the cpu backend `dataSync()`/`data()` return a view of that buffer; copy
   * what you keep after disposing the tensors (or use `arraySync()`), or pass false.
   */
  recycle?: boolean;
}

type Handed = { xs: tf.Tensor; ys: tf.Tensor; buffer: ArrayBufferLike };

/** Gives back to `stream` the buffers whose tensors the backend no longer holds. */
function reclaim(stream: PatchStream, handed: Handed[]): void {
  const backend = tf.engine().backend as unknown as { refCount?: (dataId: object) => number };
  if (typeof backend.refCount !== "function") return;
  for (let i = handed.length - 1; i >= 0; i--) {
    const h = handed[i];
    if (backend.refCount(h.xs.dataId) === 0 && backend.refCount(h.ys.dataId) === 0) {
      stream.recycle(h.buffer);
      handed.splice(i, 1);
    }
  }
  // Elements the consumer keeps for good are no longer tracked (their buffers are theirs).
  if (handed.length > 32) handed.splice(0, handed.length - 32);
}

/**
 * The GMCAE's input: `{ xs: [B, d, h, w, 1], ys: [B, d*h*w] }` float32 in [-1, 1] (the
 * target is the input, flattened, as the mixture loss wants). The tensors of an element
 * belong to the consumer: dispose them after the step (`fitDataset` does).
 *
 * ```ts
 * const { dataset, close } = await patchDataset("lungs.zarr", { sampler: lungSampler({ size: 32 }), batchSize: 8, split: "train" });
 * await model.fitDataset(dataset, { epochs: 10 });
 * await close();
 * ```
 */
export async function patchDataset(
  source: PatchSource,
  opts: PatchDatasetOptions,
): Promise<StreamDataset<{ xs: tf.Tensor5D; ys: tf.Tensor2D }> & { stream: PatchStream }> {
  const recycle = opts.recycle ?? true;
  // Shared buffers for every batch that can be out at once: the stream's queue, tf.data's
  // prefetch, the batch in hand and one disposed late.
  const buffers = sharedBuffersFor(opts, (opts.prefetch ?? 2) + 2);
  const stream = await PatchStream.open(source, {
    ...opts,
    sharedBuffers: opts.sharedBuffers ?? (recycle ? buffers : 0),
  });
  const handed: Handed[] = [];
  return epochDataset(
    stream,
    opts,
    2,
    (b: PatchBatch) => {
      const [n, d, h, w] = b.shape;
      // Both tensors view the transferred buffer: no copy on the cpu backend.
      const xs = tf.tensor5d(b.data, [n, d, h, w, 1]);
      const ys = tf.tensor2d(b.data, [n, d * h * w]);
      if (recycle) {
        reclaim(stream, handed);
        handed.push({ xs, ys, buffer: b.data.buffer });
      }
      return { xs, ys };
    },
    (b) => {
      if (recycle) stream.recycle(b.data.buffer);
    },
    () => {
      if (recycle) reclaim(stream, handed);
    },
  );
}

/**
 * The classifier's input: one whole augmented lung volume per element,
 * `{ id, xs: [1, Z, Y, X, 1], ys: [1, 1] }` (ys = the cancer label, -1 when unknown).
 */
export async function volumeDataset(
  source: PatchSource,
  opts: VolumeStreamOptions & DatasetOptions = {},
): Promise<
  StreamDataset<{ id: string; xs: tf.Tensor5D; ys: tf.Tensor2D }> & { stream: VolumeStream }
> {
  const stream = await VolumeStream.open(source, opts);
  return epochDataset(stream, opts, 1, (v: VolumeItem) => {
    const [z, y, x] = v.shape;
    return {
      id: v.patientId,
      xs: tf.tensor5d(v.data, [1, z, y, x, 1]),
      ys: tf.tensor2d([v.label ?? -1], [1, 1]),
    };
  });
}

/** What {@link epochDataset} streams from: epochs of items, and a shutdown. */
export interface EpochSource<I> {
  epoch(e: number): AsyncIterableIterator<I>;
  close(): Promise<void>;
  readonly stats?: BridgeStats;
}

/**
 * A tf.data dataset over a stream's epochs: each iteration of the dataset streams the next
 * epoch (from `opts.startEpoch`). An epoch left unfinished (steps per epoch < batches per
 * epoch, early stopping, an error in the step) is stopped when the next starts or at
 * `close()`: its tasks in flight are cancelled, and the elements tf.data prefetched that
 * the consumer never took are disposed. `dropped` receives items that arrive after their
 * epoch was stopped, `released` runs after each such clean-up (buffers back to the stream).
 */
export function epochDataset<S extends EpochSource<I>, I, T extends tf.TensorContainer>(
  stream: S,
  opts: DatasetOptions,
  defaultPrefetch: number,
  toElement: (item: I) => T,
  dropped: (item: I) => void = () => {},
  released: () => void = () => {},
): StreamDataset<T> & { stream: S } {
  let epoch = opts.startEpoch ?? 0;
  let current: { it: AsyncIterableIterator<I>; live: boolean } | undefined;
  // Elements made and not yet taken by the consumer: in tf.data's prefetch buffer.
  const waiting = new Set<T>();
  const retire = async () => {
    const run = current;
    current = undefined;
    if (run) {
      run.live = false;
      await run.it.return?.();
    }
    for (const el of waiting) tf.dispose(el);
    waiting.clear();
    released();
  };
  const make = (next: () => number) =>
    tf.data
      .generator(async function* () {
        await retire();
        const run = { it: stream.epoch(next()) as AsyncIterableIterator<I>, live: true };
        current = run;
        for await (const item of run.it) {
          if (!run.live) {
            dropped(item);
            return;
          }
          const el = toElement(item);
          waiting.add(el);
          yield el;
        }
      } as unknown as () => Generator<T>)
      .prefetch(opts.prefetch ?? defaultPrefetch)
      // Runs as the consumer takes an element from the prefetch buffer.
      .map((el) => {
        waiting.delete(el as T);
        return el;
      }) as tf.data.Dataset<T>;
  return {
    dataset: make(() => epoch++),
    forEpoch: (e: number) => make(() => e),
    stream,
    close: async () => {
      await retire();
      await stream.close();
    },
    get stats() {
      return stream.stats;
    },
  };
}
