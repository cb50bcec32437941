import { computeFeatures, type FeaturesEvent } from "@lungflow/pipeline";
import { initTf } from "@lungflow/tf-runtime";
import { intOption, listOption } from "../options.js";
import type { FeaturesCli } from "./features.js";

/**
 * One line per event of a features run (per array with `perArray`), for `features` and for
 * the features stage of `train classifier` / `predict`.
 */
export function printFeaturesEvent(e: FeaturesEvent, perArray = false): void {
  if (e.type === "start")
    console.log(
      `features ${e.encoderId}: ${e.patients} patient(s), symmetries ${e.symmetries.join(",")}, tile ${e.tile}`,
    );
  else if (e.type === "done" && perArray)
    console.log(
      `  ${e.patientId} s${e.symmetry}: ${e.shape.join("x")} in ${e.seconds.toFixed(1)} s`,
    );
  else if (e.type === "failed")
    console.error(`  ${e.patientId}: features failed: ${e.error.message}`);
  else if (e.type === "finished")
    console.log(
      `features ${e.encoderId}: ${e.written} array(s) written, ${e.skipped} already stored, ${e.failed} patient(s) failed, ${e.seconds.toFixed(1)} s`,
    );
}

/** The `features` action. */
export async function features(o: FeaturesCli): Promise<void> {
  const k = intOption("symmetries", o.symmetries, 1, 48);
  await initTf({ backend: o.backend });
  const abort = new AbortController();
  const onSigint = () => abort.abort();
  process.on("SIGINT", onSigint);
  try {
    const r = await computeFeatures({
      store: o.store,
      gmcae: o.gmcae,
      symmetries: k,
      input: { region: o.region, density: intOption("density", o.density, 0) },
      ids: listOption(o.ids),
      tile: intOption("tile", o.tile, 1),
      maxTileMiB: intOption("max-tile-mib", o.maxTileMib, 1),
      signal: abort.signal,
      onEvent: (e) => printFeaturesEvent(e, true),
    });
    if (r.failed.length) process.exitCode = 2;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
