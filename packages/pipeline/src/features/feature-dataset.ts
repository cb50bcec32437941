import { tf } from "@lungflow/tf-runtime";
import { type DatasetOptions, epochDataset, type StreamDataset } from "../patches/dataset.js";
import { type FeatureItem, FeatureStream, type FeatureStreamOptions } from "./feature-stream.js";

/**
 * The classifier head's input from stored features: one patient's feature map per element,
 * `{ id, xs: [1, z, y, x, C], ys: [1, 1] }` (ys = the cancer label, -1 when unknown), each
 * epoch with the symmetries drawn by {@link FeatureStream}. `forEpoch(e)` streams epoch `e`.
 */
export async function featureDataset(
  store: string,
  opts: FeatureStreamOptions & DatasetOptions,
): Promise<
  StreamDataset<{ id: string; xs: tf.Tensor5D; ys: tf.Tensor2D }> & { stream: FeatureStream }
> {
  const stream = await FeatureStream.open(store, opts);
  return epochDataset(stream, opts, 1, toElement);
}

/** Every selected patient with each of its K symmetries, in patient order (test-time augmentation). */
export function allSymmetries(
  stream: FeatureStream,
): tf.data.Dataset<{ id: string; xs: tf.Tensor5D; ys: tf.Tensor2D }> {
  return tf.data.generator(async function* () {
    for await (const f of stream.all()) yield toElement(f);
  } as unknown as () => Generator<{ id: string; xs: tf.Tensor5D; ys: tf.Tensor2D }>);
}

function toElement(f: FeatureItem): { id: string; xs: tf.Tensor5D; ys: tf.Tensor2D } {
  return {
    id: f.patientId,
    xs: tf.tensor5d(f.data, [1, ...f.shape]),
    ys: tf.tensor2d([f.label ?? -1], [1, 1]),
  };
}
