import { tf } from "@lungflow/tf-runtime";
import { PatchStream, type PatchStreamOptions } from "./patch-stream.js";
import type { BridgeStats } from "./pull-bridge.js";
import type { PatchSource } from "./source.js";
import { VolumeStream, type VolumeStreamOptions } from "./volume-stream.js";

/** A tf.data dataset fed by the patch workers, with its shutdown. */
export interface StreamDataset<T extends tf.TensorContainer> {
  /** Each iteration of the dataset (each `fitDataset` epoch) streams the next epoch. */
  dataset: tf.data.Dataset<T>;
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
  opts: PatchStreamOptions & DatasetOptions,
): Promise<StreamDataset<{ xs: tf.Tensor5D; ys: tf.Tensor2D }> & { stream: PatchStream }> {
  const stream = await PatchStream.open(source, opts);
  let epoch = opts.startEpoch ?? 0;
  // An epoch left unfinished (steps per epoch < batches per epoch) is stopped when the next starts.
  let current: AsyncIterator<unknown> | undefined;
  const ds = tf.data
    .generator(async function* () {
      await current?.return?.();
      const it = stream.epoch(epoch++);
      current = it;
      for await (const b of it) {
        const [n, d, h, w] = b.shape;
        // Both tensors view the transferred buffer: no copy on the cpu backend.
        yield { xs: tf.tensor5d(b.data, [n, d, h, w, 1]), ys: tf.tensor2d(b.data, [n, d * h * w]) };
      }
    } as unknown as () => Generator<{ xs: tf.Tensor5D; ys: tf.Tensor2D }>)
    .prefetch(opts.prefetch ?? 2);
  return {
    dataset: ds,
    stream,
    close: async () => {
      await current?.return?.();
      await stream.close();
    },
    get stats() {
      return stream.stats;
    },
  };
}

/**
 * The classifier's input: one whole augmented lung volume per element,
 * `{ xs: [1, Z, Y, X, 1], ys: [1, 1] }` (ys = the cancer label).
 */
export async function volumeDataset(
  source: PatchSource,
  opts: VolumeStreamOptions & DatasetOptions = {},
): Promise<StreamDataset<{ xs: tf.Tensor5D; ys: tf.Tensor2D }> & { stream: VolumeStream }> {
  const stream = await VolumeStream.open(source, opts);
  let epoch = opts.startEpoch ?? 0;
  let current: AsyncIterator<unknown> | undefined;
  const ds = tf.data
    .generator(async function* () {
      await current?.return?.();
      const it = stream.epoch(epoch++);
      current = it;
      for await (const v of it) {
        const [z, y, x] = v.shape;
        yield {
          xs: tf.tensor5d(v.data, [1, z, y, x, 1]),
          ys: tf.tensor2d([v.label ?? -1], [1, 1]),
        };
      }
    } as unknown as () => Generator<{ xs: tf.Tensor5D; ys: tf.Tensor2D }>)
    .prefetch(opts.prefetch ?? 1);
  return {
    dataset: ds,
    stream,
    close: async () => {
      await current?.return?.();
      await stream.close();
    },
    get stats() {
      return stream.stats;
    },
  };
}
