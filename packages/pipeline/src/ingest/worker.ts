/**
 * Piscina worker of the ingest pool (loaded from `dist/ingest/worker.js`). One task = one
 * patient; only paths, options and a small result cross the thread boundary.
 */
import { runIngestTask } from "./run-task.js";
import type { IngestTask, IngestTaskResult } from "./task.js";

export default function ingestWorker(task: IngestTask): Promise<IngestTaskResult> {
  return runIngestTask(task);
}
