/**
 * mulberry32: a small, fast, seeded PRNG returning floats in [0, 1) (32-bit state, period
 * 2^32; the low 32 bits of `seed` are used). The one generator behind every seeded choice in
 * lungflow (patch-store's samplers and splits, the pipeline's epoch orders, test data).
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seeded generator of uniform numbers (mulberry32: 32-bit state, period 2^32). */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n) (n >= 1). */
  int(n: number): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
}

/** A generator seeded with `seed` (any number; its low 32 bits are used). */
export function createRng(seed: number): Rng {
  const next = mulberry32(seed);
  return {
    next,
    int: (n) => Math.floor(next() * n),
    uniform: (lo, hi) => lo + (hi - lo) * next(),
  };
}

/**
 * Mixes integers into one well-spread 32-bit seed (murmur3's finaliser over each part), so
 * neighbouring coordinates such as patch indices 7 and 8 give unrelated streams.
 */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    h = mix32(h, p >>> 0);
    // Numbers beyond 32 bits also mix their high word, so that large indices do not collide.
    const hi = Math.floor(p / 4294967296) >>> 0;
    if (hi) h = mix32(h, hi);
  }
  return h >>> 0;
}

function mix32(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** Fisher-Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
