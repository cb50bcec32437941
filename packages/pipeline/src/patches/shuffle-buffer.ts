import type { Rng } from "@lungflow/volume";

/**
 * A bounded shuffle buffer (tf.data's `shuffle(n)`, TorchIO's queue): holds up to
 * `capacity` items; each push beyond that returns a uniformly chosen held item and keeps
 * the new one. `capacity` 0 passes items through in order.
 */
export class ShuffleBuffer<T> {
  readonly #items: T[] = [];
  constructor(
    readonly capacity: number,
    readonly rng: Rng,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  /** Adds `item`; returns the item that leaves the buffer, if one does. */
  push(item: T): T | undefined {
    if (this.capacity === 0) return item;
    if (this.#items.length < this.capacity) {
      this.#items.push(item);
      return undefined;
    }
    const j = this.rng.int(this.capacity);
    const out = this.#items[j];
    this.#items[j] = item;
    return out;
  }

  /** Empties the buffer in random order. */
  *drain(): Generator<T> {
    while (this.#items.length > 0) {
      const j = this.rng.int(this.#items.length);
      const out = this.#items[j];
      this.#items[j] = this.#items[this.#items.length - 1];
      this.#items.pop();
      yield out;
    }
  }
}
