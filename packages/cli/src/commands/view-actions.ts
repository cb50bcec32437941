import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { parsePredictionsCsv, startViewer } from "@lungflow/viewer";
import { intOption } from "../options.js";
import type { ViewCli } from "./view.js";

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

/** The `view` action. */
export async function view(o: ViewCli): Promise<void> {
  const port = intOption("port", o.port, 0, 65535);
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
}
