import { mulberry32, SYMMETRY_COUNT } from "@lungflow/volume";

/**
 * The order in which cube symmetries are used for stored features and test-time
 * augmentation: the identity first, then the other 47 in a fixed shuffled order (so the
 * first K are a spread of rotations and mirrorings, not K variants of one axis flip).
 * `featureSymmetries(K)` is always a prefix of `featureSymmetries(K + 1)`: computing more
 * symmetries later adds to what is stored.
 */
const ORDER: readonly number[] = (() => {
  const rest = Array.from({ length: SYMMETRY_COUNT - 1 }, (_, i) => i + 1);
  const rnd = mulberry32(48);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  return Object.freeze([0, ...rest]);
})();

/** The first `k` symmetry indices (1..48) of the fixed order. */
export function featureSymmetries(k: number): number[] {
  if (!Number.isInteger(k) || k < 1 || k > SYMMETRY_COUNT)
    throw new RangeError(`symmetries must be an integer in 1..${SYMMETRY_COUNT}, got ${k}`);
  return ORDER.slice(0, k);
}
