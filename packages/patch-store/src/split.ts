import { createRng, shuffled } from "@lungflow/volume";
import { StoreError } from "./errors.js";
import type { Label, Split } from "./schema.js";

/**
 * A stratified train/validation/test partition: labelled patients of each class are
 * shuffled (seeded; ids sorted first, so the result depends only on the ids, labels and
 * seed) and `round(n_class * validationFraction)` of each class go to validation;
 * unlabelled patients are the test set (kdsb17: ~80/20 of the labelled, test = stage-1
 * patients without a label).
 */
export function stratifiedSplit(
  ids: readonly string[],
  labels: ReadonlyMap<string, Label> | Record<string, Label>,
  opts: { seed: number; validationFraction: number },
): Omit<Split, "createdAt"> {
  const { seed, validationFraction } = opts;
  if (!Number.isInteger(seed)) {
    throw new StoreError("INVALID_ARGUMENT", `split seed must be an integer, got ${seed}`, {
      seed,
    });
  }
  if (!(validationFraction >= 0 && validationFraction < 1)) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `validationFraction must be in [0, 1), got ${validationFraction}`,
      {
        validationFraction,
      },
    );
  }
  const get = (id: string): Label | undefined =>
    labels instanceof Map ? labels.get(id) : (labels as Record<string, Label>)[id];
  const sorted = [...ids].sort();
  const byClass: [string[], string[]] = [[], []];
  const test: string[] = [];
  for (const id of sorted) {
    const l = get(id);
    if (l === 0 || l === 1) byClass[l].push(id);
    else test.push(id);
  }
  if (byClass[0].length + byClass[1].length === 0) {
    throw new StoreError(
      "SPLIT_INVALID",
      "no labelled patients to split (import labels first)",
      {},
    );
  }
  const rng = createRng(seed);
  const train: string[] = [];
  const validation: string[] = [];
  for (const cls of byClass) {
    const s = shuffled(cls, rng);
    const nVal = Math.round(s.length * validationFraction);
    validation.push(...s.slice(0, nVal));
    train.push(...s.slice(nVal));
  }
  return { seed, validationFraction, train: train.sort(), validation: validation.sort(), test };
}
