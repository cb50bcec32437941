import type { MessagePort } from "node:worker_threads";
import { type SlabKernel, type SlabRunner, serialSlabs } from "@lungflow/volume";

/**
 * Slots of a job's control array (Int32 on a SharedArrayBuffer): the next part to claim,
 * a flag set when the job is over (late helpers leave at once), a flag set by the main
 * thread when a helper died (its claimed parts are redone by the owner), then one state
 * per part.
 */
const NEXT = 0;
const CLOSED = 1;
const ABANDONED = 2;
const STATES = 3;
/** Part states. */
const CLAIMED = 1;
const DONE = 2;
const FAILED = 3;

/** What the owner of a job posts to the main thread, and the main thread gives to helpers. */
export interface SlabJob {
  kernel: string;
  parts: number;
  args: unknown;
  ctrl: Int32Array;
}

/** A task of the ingest pool that helps with another patient's job. */
export interface SlabHelpTask {
  help: SlabJob;
}

/** Arrays smaller than this may be copied to helpers (index tables, histograms' bounds). */
const COPY_LIMIT = 1 << 16;

/**
 * True when every large typed array of `args` (fields, and fields of fields) is on shared
 * memory: otherwise helpers would read a copy (slow) and write into one (lost), so the job
 * runs on the calling thread.
 */
function sharesAll(args: unknown, depth = 0): boolean {
  if (args === null || typeof args !== "object") return true;
  if (ArrayBuffer.isView(args))
    return args.buffer instanceof SharedArrayBuffer || args.byteLength < COPY_LIMIT;
  if (depth > 1) return true;
  for (const v of Object.values(args)) if (!sharesAll(v, depth + 1)) return false;
  return true;
}

/**
 * The runner of a patient's thread in the ingest pool: each job is posted (kernel name,
 * part count, args, control array) to the main thread, which hands it to pool threads that
 * have no patient ({@link helpWithSlabs}); this thread claims parts too, and waits only for
 * the parts a helper has claimed. With no idle thread the job simply runs here, part after
 * part. A part that failed on a helper is rerun here, so the error thrown is the real one
 * (typed, naming its file); parts of a helper that died are redone here too.
 */
export function threadSlabs(port: MessagePort): SlabRunner & { readonly helpedParts: number } {
  let helped = 0;
  return {
    get helpedParts() {
      return helped;
    },
    alloc: (ctor, length) => new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT)),
    forEach<A>(kernel: SlabKernel<A>, parts: number, args: A): void {
      if (parts <= 1 || !sharesAll(args)) {
        serialSlabs.forEach(kernel, parts, args);
        return;
      }
      const ctrl = new Int32Array(new SharedArrayBuffer(4 * (STATES + parts)));
      port.postMessage({ kernel: kernel.name, parts, args, ctrl } satisfies SlabJob);
      let here = 0;
      try {
        for (;;) {
          const p = Atomics.add(ctrl, NEXT, 1);
          if (p >= parts) break;
          kernel.run(args, p);
          here++;
          Atomics.store(ctrl, STATES + p, DONE);
        }
        for (let p = 0; p < parts; p++) {
          // A claimed part (or one a helper is about to mark claimed) is waited for.
          while (Atomics.load(ctrl, STATES + p) < DONE) {
            if (Atomics.load(ctrl, ABANDONED)) break;
            Atomics.wait(ctrl, STATES + p, Atomics.load(ctrl, STATES + p), 50);
          }
          if (Atomics.load(ctrl, STATES + p) !== DONE) {
            kernel.run(args, p); // failed on a helper (rethrows its error), or abandoned
            here++;
            Atomics.store(ctrl, STATES + p, DONE);
          }
        }
        helped += parts - here;
      } finally {
        Atomics.store(ctrl, CLOSED, 1);
      }
    },
  };
}

/**
 * Runs parts of another thread's job until none is left (or the job is over). A part that
 * throws is marked failed for its owner to rerun; nothing is returned.
 */
export function helpWithSlabs(
  job: SlabJob,
  kernels: ReadonlyMap<string, SlabKernel<unknown>>,
): void {
  const kernel = kernels.get(job.kernel);
  if (!kernel) return; // the owner runs every part itself
  const { ctrl, parts, args } = job;
  while (!Atomics.load(ctrl, CLOSED)) {
    const p = Atomics.add(ctrl, NEXT, 1);
    if (p >= parts) break;
    Atomics.store(ctrl, STATES + p, CLAIMED);
    let state = DONE;
    try {
      kernel.run(args, p);
    } catch {
      state = FAILED;
    }
    Atomics.store(ctrl, STATES + p, state);
    Atomics.notify(ctrl, STATES + p);
  }
}

/** Marks a job whose helper died: its owner stops waiting and redoes the helper's parts. */
export function abandonSlabJob(job: SlabJob): void {
  Atomics.store(job.ctrl, ABANDONED, 1);
  for (let p = 0; p < job.parts; p++) Atomics.notify(job.ctrl, STATES + p);
}
