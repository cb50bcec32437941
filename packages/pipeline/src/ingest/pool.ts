import * as fs from "node:fs";
import * as os from "node:os";
import { fileURLToPath } from "node:url";
import { Piscina } from "piscina";
import { onPoolError } from "../patches/pool.js";
import { IngestError } from "./errors.js";

/**
 * The compiled worker script. Next to this module in `dist/`; when this module runs from
 * `src/` (tests under tsx) the compiled one in `dist/` is used, since Piscina workers must
 * be plain JavaScript.
 */
export function ingestWorkerUrl(): URL {
  const here = new URL("./worker.js", import.meta.url);
  if (fs.existsSync(fileURLToPath(here))) return here;
  const dist = new URL("../../dist/ingest/worker.js", import.meta.url);
  if (fs.existsSync(fileURLToPath(dist))) return dist;
  throw new IngestError(
    "WORKER_FAILED",
    `ingest worker not built: ${fileURLToPath(dist)} is missing (run the pipeline build)`,
    { workerPath: fileURLToPath(dist) },
  );
}

/** Default pool size: the number of CPU cores. */
export function defaultWorkers(): number {
  return Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
}

/** A Piscina pool of `workers` ingest threads. */
export function createIngestPool(workers: number): Piscina {
  const pool = new Piscina({
    filename: ingestWorkerUrl().href,
    minThreads: workers,
    maxThreads: workers,
    idleTimeout: 1000,
  });
  // Late replies to aborted (discarded) patients arrive as pool errors: see onPoolError.
  pool.on("error", onPoolError);
  return pool;
}
