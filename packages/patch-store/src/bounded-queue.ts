/**
 * A zarrita `createQueue` running at most `limit` chunk writes at once (zarrita's default
 * starts them all, holding every encoded chunk of a large array in memory together).
 */
export function boundedQueue(limit: number) {
  return () => {
    let active = 0;
    const waiting: (() => void)[] = [];
    const all: Promise<void>[] = [];
    return {
      add(fn: () => Promise<void>) {
        all.push(
          (async () => {
            if (active >= limit) await new Promise<void>((r) => waiting.push(r));
            active++;
            try {
              await fn();
            } finally {
              active--;
              waiting.shift()?.();
            }
          })(),
        );
      },
      onIdle: () => Promise.all(all),
    };
  };
}
