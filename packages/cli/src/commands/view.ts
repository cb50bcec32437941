import type { Command } from "commander";
import { runAction } from "../options.js";

export interface ViewCli {
  store: string;
  port: string;
  predictions?: string;
  open?: boolean;
}

/** Registers `view`. */
export function registerView(program: Command): void {
  program
    .command("view")
    .description(
      "serve a local web viewer of a store on 127.0.0.1: patient list, three planes with the lung mask and feature overlays",
    )
    .requiredOption("--store <path>", "the patch store (Zarr directory)")
    .option("--port <n>", "port on 127.0.0.1 (0 picks a free one)", "8620")
    .option("--predictions <csv>", "Kaggle-format predictions (id,cancer) to show in the list")
    .option("--open", "open the page in the desktop's browser")
    .action((o: ViewCli) =>
      runAction("view", async () => (await import("./view-actions.js")).view(o)),
    );
}
