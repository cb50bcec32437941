import { acquireLock, type StoreLock } from "../lock.js";

/** The store's write lock, re-entrant within one `PatchStore`. */
export class ReentrantLock {
  readonly #root: string;
  #depth = 0;
  #lock: StoreLock | undefined;

  constructor(root: string) {
    this.#root = root;
  }

  /** See `PatchStore.lock`. */
  async acquire(
    opts: { timeoutMs?: number; purpose?: string; signal?: AbortSignal } = {},
  ): Promise<{ release(): Promise<void> }> {
    if (this.#depth === 0) this.#lock = await acquireLock(this.#root, opts);
    this.#depth++;
    let done = false;
    return {
      release: async () => {
        if (done) return;
        done = true;
        if (--this.#depth === 0) {
          await this.#lock?.release();
          this.#lock = undefined;
        }
      },
    };
  }

  /** Runs `fn` holding the lock (taken for `purpose`, waiting up to `timeoutMs`). */
  async run<T>(purpose: string, fn: () => Promise<T>, timeoutMs = 0): Promise<T> {
    const l = await this.acquire({ purpose, timeoutMs });
    try {
      return await fn();
    } finally {
      await l.release();
    }
  }
}
