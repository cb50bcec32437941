import { mulberry32 } from "../src/index.ts";

/** Seeded PRNG (mulberry32) for test data. */
export const rng = mulberry32;

export function randomInt16(n: number, seed: number, lo = -1024, hi = 2000): Int16Array {
  const r = rng(seed);
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + Math.floor(r() * (hi - lo + 1));
  return a;
}
