import type { Command } from "commander";
import { runAction } from "../options.js";

export interface StoreJsonCli {
  json?: boolean;
}

export interface StoreLabelsCli {
  ignoreUnknown?: boolean;
  replace?: boolean;
  json?: boolean;
}

export interface StoreSplitCli {
  seed: string;
  validationFraction: string;
  json?: boolean;
}

/** Registers `store ls|info|verify|labels|split`. */
export function registerStore(program: Command): void {
  const store = program.command("store").description("inspect and manage a patch store (Zarr v3)");

  store
    .command("ls")
    .description("list the patients of a store")
    .argument("<store>", "patch store path")
    .option("--json", "print JSON (one array of patient attributes)")
    .action((storePath: string, o: StoreJsonCli) =>
      runAction("store ls", async () => (await import("./store-actions.js")).storeLs(storePath, o)),
    );

  store
    .command("info")
    .description("show a store's parameters, counts, labels, split and encoder feature sets")
    .argument("<store>", "patch store path")
    .option("--json", "print JSON")
    .action((storePath: string, o: StoreJsonCli) =>
      runAction("store info", async () =>
        (await import("./store-actions.js")).storeInfo(storePath, o),
      ),
    );

  store
    .command("verify")
    .description("decode every chunk and check every patient; exit 2 if anything is corrupt")
    .argument("<store>", "patch store path")
    .option("--json", "print the report as JSON")
    .action((storePath: string, o: StoreJsonCli) =>
      runAction("store verify", async () =>
        (await import("./store-actions.js")).storeVerify(storePath, o),
      ),
    );

  store
    .command("labels")
    .description(
      "import Kaggle labels (id,cancer); any problem aborts the import with line numbers",
    )
    .argument("<store>", "patch store path")
    .argument("<csv>", "labels CSV (e.g. stage1_labels.csv)")
    .option("--ignore-unknown", "skip ids that are not in the store instead of failing")
    .option("--replace", "drop labels not in this file")
    .option("--json", "print JSON")
    .action((storePath: string, csv: string, o: StoreLabelsCli) =>
      runAction("store labels", async () =>
        (await import("./store-actions.js")).storeLabels(storePath, csv, o),
      ),
    );

  store
    .command("split")
    .description("make a seeded stratified train/validation/test split (test = unlabelled)")
    .argument("<store>", "patch store path")
    .option("--seed <n>", "random seed", "17")
    .option("--validation-fraction <f>", "fraction of each class for validation", "0.2")
    .option("--json", "print JSON")
    .action((storePath: string, o: StoreSplitCli) =>
      runAction("store split", async () =>
        (await import("./store-actions.js")).storeSplit(storePath, o),
      ),
    );
}
