import { tf } from "@lungflow/tf-runtime";

/** One batch: `xs` [B, D, D, D, 1] normalised to [-1, 1]; `ys` [B, D^3] (default: xs flattened). */
export type Batch = {
  xs: tf.Tensor;
  ys?: tf.Tensor;
};

/** Something batches can be pulled from. */
export type BatchSource = tf.data.Dataset<Batch> | AsyncIterable<Batch> | Iterable<Batch>;

/** What the data source factory is told: epoch (1-based) and a seed drawn from the run RNG. */
export interface EpochContext {
  epoch: number;
  seed: number;
  role: "train" | "validation";
}

/**
 * Training or validation data: a source, or a factory called per epoch (the form that makes
 * resume exact without replaying earlier epochs' batches).
 */
export type DataInput = BatchSource | ((ctx: EpochContext) => BatchSource | Promise<BatchSource>);

/** A pull iterator over batches. */
export interface BatchIterator {
  next(): Promise<Batch | undefined>;
  close(): Promise<void>;
}

function isDataset(s: unknown): s is tf.data.Dataset<Batch> {
  return s instanceof tf.data.Dataset;
}

/** Opens an iterator on a source (a Dataset starts over; an iterable asks for a new iterator). */
export async function openSource(src: BatchSource): Promise<BatchIterator> {
  if (isDataset(src)) {
    const it = await src.iterator();
    return {
      next: async () => {
        const r = await it.next();
        return r.done ? undefined : (r.value as Batch);
      },
      close: async () => {},
    };
  }
  const asyncIt = (src as AsyncIterable<Batch>)[Symbol.asyncIterator];
  const it: AsyncIterator<Batch> | Iterator<Batch> = asyncIt
    ? asyncIt.call(src)
    : (src as Iterable<Batch>)[Symbol.iterator]();
  return {
    next: async () => {
      const r = await it.next();
      return r.done ? undefined : r.value;
    },
    close: async () => {
      await it.return?.();
    },
  };
}

/** True when `input` is a per-epoch factory. */
export function isFactory(
  input: DataInput,
): input is (ctx: EpochContext) => BatchSource | Promise<BatchSource> {
  return typeof input === "function" && !isDataset(input);
}
