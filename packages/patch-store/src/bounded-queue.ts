/**
 * A zarrita `createQueue` running at most `limit` chunk writes at once (zarrita's default
 * starts them all, holding every encoded chunk of a large array in memory together).
 *
 * After the first failure no further write starts, and `onIdle` rejects only once the
 * writes already running have settled: the caller then deletes its staging folder knowing
 * that no write (and no `mkdir` of a chunk folder) can recreate part of it afterwards.
 */
export function boundedQueue(limit: number) {
  return () => {
    let active = 0;
    let failed: { err: unknown } | undefined;
    const waiting: (() => void)[] = [];
    const all: Promise<void>[] = [];
    return {
      add(fn: () => Promise<void>) {
        all.push(
          (async () => {
            if (active >= limit) await new Promise<void>((r) => waiting.push(r));
            active++;
            try {
              if (!failed) await fn();
            } catch (err) {
              failed ??= { err };
            } finally {
              active--;
              waiting.shift()?.();
            }
          })(),
        );
      },
      onIdle: async () => {
        const done = await Promise.all(all);
        if (failed) throw failed.err;
        return done;
      },
    };
  };
}
