/**
 * Cancels tasks already handed to a worker without terminating the worker (which would throw
 * away its decoded volumes): task ids in a ring of shared memory. The main thread writes a
 * dropped task's id into slot `id % slots`; the worker checks its task's id there between
 * steps and stops early. Two tasks outstanding at once with ids equal modulo the slot count
 * (more than the tasks a stream keeps in flight) can only hide a cancellation, never cancel
 * the wrong task: a task stops only where its own id was written.
 */
export class CancelRing {
  /** The ring, shared with the workers through `workerData`. */
  readonly ids: Int32Array;

  constructor(ids: Int32Array = new Int32Array(new SharedArrayBuffer(4 * 4096))) {
    this.ids = ids;
  }

  /** Marks task `id` (an integer >= 1) cancelled. */
  cancel(id: number): void {
    Atomics.store(this.ids, id % this.ids.length, id);
  }

  /** Whether task `id` was cancelled. */
  cancelled(id: number): boolean {
    return Atomics.load(this.ids, id % this.ids.length) === id;
  }
}
