import type { Command } from "commander";
import { runAction } from "../options.js";
export interface WorkerCliOptions {
  queue: string;
  queueName: string;
  store: string;
  workers?: string;
  threads?: string;
  lease: string;
  lockDuration: string;
}

/** Registers `worker --queue <redis-url> --store <path> [--workers n] [--threads n]`. */
export function registerWorker(program: Command): void {
  program
    .command("worker")
    .description(
      "serve an ingest queue: take patient jobs from Redis (filled by `ingest --queue`) and write them to the store; run on as many hosts as you like",
    )
    .requiredOption("--queue <redis-url>", "the queue's Redis: redis://host:port[/db]")
    .requiredOption("--store <path>", "the patch store the jobs write (same store as the ingest)")
    .option("--queue-name <name>", "BullMQ queue name", "lungflow-ingest")
    .option("--workers <n>", "patients at a time on this host (default: number of cores)")
    .option(
      "--threads <n>",
      "pool threads on this host; those without a job help the running ones (default: the larger of --workers and the number of cores)",
    )
    .option("--lease <s>", "lease of a patient's claim in the store, seconds", "60")
    .option(
      "--lock-duration <s>",
      "seconds without a heartbeat before a job of a dead worker goes to another",
      "30",
    )
    .action((o: WorkerCliOptions) =>
      runAction("worker", async () => (await import("./worker-actions.js")).worker(o)),
    );
}
