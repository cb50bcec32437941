import type { tf } from "@lungflow/tf-runtime";

/** One batch: `xs` [B, D, D, D, 1] normalised to [-1, 1]; `ys` [B, D^3] (default: xs flattened). */
export type Batch = {
  xs: tf.Tensor;
  ys?: tf.Tensor;
};

/** What the data function is told: epoch (1-based) and a seed drawn from the run RNG. */
export interface EpochContext {
  epoch: number;
  seed: number;
  role: "train" | "validation";
}

/**
 * Training or validation data: a function giving each epoch's batches as a tf.data dataset
 * (the pipeline's `patchDataset(...).forEpoch(epoch - 1)`). One shape only: a resumed run
 * asks for the epochs it has not done, so it sees what an uninterrupted run would have.
 */
export type DataInput = (
  ctx: EpochContext,
) => tf.data.Dataset<Batch> | Promise<tf.data.Dataset<Batch>>;

/** A pull iterator over batches. */
export interface BatchIterator {
  next(): Promise<Batch | undefined>;
  /** Stops pulling (the dataset's producer is stopped by its owner, e.g. the pipeline's next epoch). */
  close(): Promise<void>;
}

/** Opens an iterator on one epoch's dataset. */
export async function openSource(src: tf.data.Dataset<Batch>): Promise<BatchIterator> {
  const it = await src.iterator();
  return {
    next: async () => {
      const r = await it.next();
      return r.done ? undefined : (r.value as Batch);
    },
    close: async () => {},
  };
}
