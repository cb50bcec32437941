/**
 * Splitting one volume's work across threads. A stage that can be cut into independent
 * parts (output z-slabs of a resample, slices of a per-slice step) names a
 * {@link SlabKernel}: a pure function of `(args, part)` that reads and writes only typed
 * arrays found in `args`. A {@link SlabRunner} calls it for every part; a threaded runner
 * (the ingest pool's, in `@lungflow/pipeline`) lets idle threads take some of the parts,
 * finding the same kernel by `name` in their own registry. Arrays the parts write, or
 * that other threads must read, come from `runner.alloc` (on a `SharedArrayBuffer` when the
 * runner is threaded), so nothing is copied between threads; every other field of `args`
 * must survive `structuredClone`.
 *
 * Results must not depend on which thread ran which part, nor on the order: the parts
 * write disjoint places (per-part counters go to their own slot of a shared array).
 */
export interface SlabKernel<A> {
  /** Unique, `package/kernel`: how a helper thread finds the function. */
  readonly name: string;
  /** Runs one part. Throws typed errors; the runner rethrows them on the calling thread. */
  run(args: A, part: number): void;
}

/** Typed arrays a runner can allocate. */
export type SlabArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

export type SlabArrayCtor<T extends SlabArray> = {
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): T;
  new (length: number): T;
  readonly BYTES_PER_ELEMENT: number;
};

/** Runs slab kernels: on the calling thread only ({@link serialSlabs}) or with helpers. */
export interface SlabRunner {
  /** A zeroed array the kernel's parts may write (shared memory for a threaded runner). */
  alloc<T extends SlabArray>(ctor: SlabArrayCtor<T>, length: number): T;
  /**
   * Calls `kernel.run(args, part)` for every part in `0..parts-1` (some perhaps on other
   * threads) and returns when all are done. If a part throws, the first error is thrown
   * here (after the parts already started have ended).
   */
  forEach<A>(kernel: SlabKernel<A>, parts: number, args: A): void;
}

/** The runner without threads: every part in order on the calling thread. */
export const serialSlabs: SlabRunner = {
  alloc: (ctor, length) => new ctor(length),
  forEach(kernel, parts, args) {
    for (let p = 0; p < parts; p++) kernel.run(args, p);
  },
};

/** Part count for `n` units (slices) in slabs of about `size`: at least 1. */
export function slabCount(n: number, size: number): number {
  return Math.max(1, Math.ceil(n / size));
}

/** Units `[start, end)` of part `p` of `parts` over `n` units (even split, in order). */
export function slabRange(n: number, parts: number, p: number): [number, number] {
  return [Math.floor((p * n) / parts), Math.floor(((p + 1) * n) / parts)];
}
