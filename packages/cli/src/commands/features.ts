import { computeFeatures } from "@lungflow/pipeline";
import { initTf } from "@lungflow/tf-runtime";
import type { Command } from "commander";
import { guarded } from "./guarded.js";

/** Registers `features`. */
export function registerFeatures(program: Command): void {
  program
    .command("features")
    .description(
      "run a trained GMCAE's encoder (frozen) over every patient's whole lung in tiles and store the feature maps (incremental, atomic)",
    )
    .requiredOption("--store <path>", "patch store")
    .requiredOption("--gmcae <dir>", "GMCAE run or checkpoint folder")
    .option("--symmetries <k>", "cube symmetries per patient, identity first (1..48)", "8")
    .option("--ids <list>", "comma-separated patient ids (default: every patient)")
    .option("--tile <n>", "tile edge in feature voxels (default: from --max-tile-mib)")
    .option("--max-tile-mib <n>", "memory budget of one tile's activations", "512")
    .option("--backend <name>", "node-gpu | node | cpu")
    .action(
      async (o: {
        store: string;
        gmcae: string;
        symmetries: string;
        ids?: string;
        tile?: string;
        maxTileMib: string;
        backend?: string;
      }) =>
        guarded("features", async () => {
          const int = (flag: string, v: string, lo: number, hi = Number.POSITIVE_INFINITY) => {
            const n = Number(v);
            if (!Number.isInteger(n) || n < lo || n > hi)
              throw new Error(`--${flag}: expected an integer in ${lo}..${hi}, got "${v}"`);
            return n;
          };
          const k = int("symmetries", o.symmetries, 1, 48);
          await initTf({ backend: o.backend });
          const abort = new AbortController();
          const onSigint = () => abort.abort();
          process.on("SIGINT", onSigint);
          try {
            const r = await computeFeatures({
              store: o.store,
              gmcae: o.gmcae,
              symmetries: k,
              ids: o.ids
                ?.split(",")
                .map((s) => s.trim())
                .filter(Boolean),
              tile: o.tile ? int("tile", o.tile, 1) : undefined,
              maxTileMiB: int("max-tile-mib", o.maxTileMib, 1),
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
                else if (e.type === "failed")
                  console.error(`  ${e.patientId}: failed: ${e.error.message}`);
              },
            });
            console.log(
              `features ${r.encoderId}: ${r.written} array(s) written, ${r.skipped} already stored, ${r.failed.length} patient(s) failed, ${r.seconds.toFixed(1)} s`,
            );
            if (r.failed.length) process.exitCode = 2;
          } finally {
            process.off("SIGINT", onSigint);
          }
        }),
    );
}
