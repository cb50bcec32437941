/**
 * @lungflow/pipeline: the RxJS flows that join the packages, on Piscina worker pools.
 *
 * ```ts
 * import { ingest } from "@lungflow/pipeline";
 * ingest({ root: "stage1", store: "lungs.zarr", workers: 2 }).subscribe((e) => {
 *   if (e.type === "failed") console.error(e.id, e.error.code, e.error.message);
 * });
 * ```
 */

// Encoder features (frozen encoder in tiles -> store -> classifier head).
export * from "./features/index.js";
// Ingest (DICOM folders -> workers -> patch store).
export * from "./ingest/index.js";
export {
  type QueueWorkerEvent,
  type QueueWorkerOptions,
  queueWorker,
} from "./ingest/queue/queue-worker.js";
// Patch streaming (samplers -> workers -> tf.data).
export * from "./patches/index.js";

// Training flows (store -> workers -> tf.data -> the gmcae and classifier trainers).
export * from "./train/index.js";
