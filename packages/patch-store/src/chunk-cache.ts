/**
 * A bounded least-recently-used cache of decoded chunks, by byte size. Concurrent requests
 * for the same chunk share one decode; failed decodes are not cached.
 */
export class ChunkCache<T extends ArrayBufferView = ArrayBufferView> {
  readonly maxBytes: number;
  #entries = new Map<string, T>();
  #inflight = new Map<string, Promise<T>>();
  #bytes = 0;
  hits = 0;
  misses = 0;

  /** @param maxBytes budget in bytes (0 disables caching). */
  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for `key`, or `load()`'s result, cached if it fits. */
  async get(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.#entries.get(key);
    if (hit) {
      this.hits++;
      this.#entries.delete(key);
      this.#entries.set(key, hit);
      return hit;
    }
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    this.misses++;
    const p = load().then(
      (v) => {
        this.#inflight.delete(key);
        this.#put(key, v);
        return v;
      },
      (err) => {
        this.#inflight.delete(key);
        throw err;
      },
    );
    this.#inflight.set(key, p);
    return p;
  }

  /** Drops entries whose key starts with `prefix` (all when omitted). */
  clear(prefix = ""): void {
    for (const [k, v] of this.#entries) {
      if (k.startsWith(prefix)) {
        this.#entries.delete(k);
        this.#bytes -= v.byteLength;
      }
    }
  }

  #put(key: string, v: T): void {
    if (v.byteLength > this.maxBytes) return;
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.byteLength;
    }
    this.#entries.set(key, v);
    this.#bytes += v.byteLength;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.byteLength;
    }
  }
}
