import { computeFeatures } from "@lungflow/pipeline";
import { initTf } from "@lungflow/tf-runtime";
import { intOption, listOption } from "../options.js";
import type { FeaturesCli } from "./features.js";

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
      ids: listOption(o.ids),
      tile: intOption("tile", o.tile, 1),
      maxTileMiB: intOption("max-tile-mib", o.maxTileMib, 1),
      signal: abort.signal,
      onEvent: (e) => {
        if (e.type === "start")
          console.log(
            `features ${e.encoderId}: ${e.patients} patient(s), symmetries ${e.symmetries.join(",")}, tile ${e.tile}`,
          );
        else if (e.type === "done")
          console.log(
            `  ${e.patientId} s${e.symmetry}: ${e.shape.join("x")} in ${e.seconds.toFixed(1)} s`,
          );
        else if (e.type === "failed") console.error(`  ${e.patientId}: failed: ${e.error.message}`);
      },
    });
    console.log(
      `features ${r.encoderId}: ${r.written} array(s) written, ${r.skipped} already stored, ${r.failed.length} patient(s) failed, ${r.seconds.toFixed(1)} s`,
    );
    if (r.failed.length) process.exitCode = 2;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
