import type { tf } from "@lungflow/tf-runtime";

/** The elements of a dataset as an async iterable (one pass). */
export async function* elementsOf<T extends tf.TensorContainer>(
  ds: tf.data.Dataset<T> | Promise<tf.data.Dataset<T>>,
): AsyncGenerator<T> {
  const it = await (await ds).iterator();
  for (;;) {
    const r = await it.next();
    if (r.done) return;
    yield r.value;
  }
}
