import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { parsePredictionsCsv, startViewer } from "@lungflow/viewer";
import type { Command } from "commander";
import { guarded } from "./guarded.js";

/** Opens `url` in the desktop's browser; false when no opener is installed. */
function openBrowser(url: string): Promise<boolean> {
  const cmd =
    process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  return new Promise((resolve) => {
    const child = spawn(cmd, [url], { stdio: "ignore", detached: true });
    child.once("error", () => resolve(false));
    child.once("spawn", () => {
      child.unref();
      resolve(true);
    });
  });
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
    .action(async (o: { store: string; port: string; predictions?: string; open?: boolean }) =>
      guarded("view", async () => {
        const port = Number(o.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new Error(`--port must be an integer in 0..65535, got ${o.port}`);
        const predictions = o.predictions
          ? parsePredictionsCsv(await readFile(o.predictions, "utf8"), o.predictions)
          : undefined;
        const viewer = await startViewer({ store: o.store, port, predictions });
        console.log(`lungflow view: ${viewer.url} (store ${o.store}); Ctrl-C stops`);
        if (o.open && !(await openBrowser(viewer.url)))
          console.log("lungflow view: no browser opener found; open the address above");
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            void viewer.close().then(resolve);
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
        });
      }),
    );
}
