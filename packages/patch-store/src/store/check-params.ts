import { StoreError } from "../errors.js";
import { type PreprocessingParams, paramsDiff } from "../schema.js";

/** Throws `PARAMS_MISMATCH` when `given` differs from the store's `stored` parameters. */
export function checkParams(
  root: string,
  stored: PreprocessingParams,
  given: PreprocessingParams,
): void {
  const diff = paramsDiff(stored, given);
  if (diff.length) {
    throw new StoreError(
      "PARAMS_MISMATCH",
      `store ${root} holds patients preprocessed with other parameters (${diff
        .map((k) => `${k}: store ${JSON.stringify(stored[k])}, given ${JSON.stringify(given[k])}`)
        .join("; ")}); use another store or the store's parameters`,
      { store: root, differing: diff, stored, given },
    );
  }
}
