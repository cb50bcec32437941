import type { Command } from "commander";
import { runAction } from "../options.js";

export interface FeaturesCli {
  store: string;
  gmcae: string;
  symmetries: string;
  ids?: string;
  tile?: string;
  maxTileMib: string;
  region: boolean;
  density: string;
  backend?: string;
}

/** Registers `features`. */
export function registerFeatures(program: Command): void {
  program
    .command("features")
    .description(
      "run a trained GMCAE's encoder (frozen) over every patient's whole lung in tiles and store the feature maps (incremental, atomic)",
    )
    .requiredOption("--store <path>", "patch store")
    .requiredOption("--gmcae <dir>", "GMCAE run or checkpoint folder")
    .option("--symmetries <k>", "cube symmetries per patient, identity first (1..48)", "4")
    .option(
      "--no-region",
      "encode the whole crop box (default: only the lung region, the rest read as air)",
    )
    .option(
      "--density <n>",
      "window of the density channel appended to the features (0: none)",
      "8",
    )
    .option("--ids <list>", "comma-separated patient ids (default: every patient)")
    .option("--tile <n>", "tile edge in feature voxels (default: from --max-tile-mib)")
    .option("--max-tile-mib <n>", "memory budget of one tile's activations", "512")
    .option("--backend <name>", "node-gpu | node | cpu")
    .action((o: FeaturesCli) =>
      runAction("features", async () => (await import("./features-actions.js")).features(o)),
    );
}
