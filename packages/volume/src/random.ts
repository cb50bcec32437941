/**
 * mulberry32: a small, fast, seeded PRNG returning floats in [0, 1) (32-bit state, period
 * 2^32; the low 32 bits of `seed` are used). The one generator behind every seeded choice in
 * lungflow (patch-store's samplers and splits, test data).
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
