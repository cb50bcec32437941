/**
 * Piscina worker of the ingest pool (loaded from `dist/ingest/worker.js`). One task = one
 * patient (only paths, options, a port and a small result cross the thread boundary), or
 * help with another patient's job (its arrays are on shared memory).
 */
import { runIngestTask } from "./run-task.js";
import { SLAB_KERNELS } from "./slab-kernels.js";
import type { IngestTask, IngestTaskResult } from "./task.js";
import { helpWithSlabs, type SlabHelpTask } from "./thread-slabs.js";

export default async function ingestWorker(
  task: IngestTask | SlabHelpTask,
): Promise<IngestTaskResult | undefined> {
  if ("help" in task) {
    helpWithSlabs(task.help, SLAB_KERNELS);
    return undefined;
  }
  return runIngestTask(task);
}
