/**
 * @lungflow/volume: the `Volume` type (typed array + shape [z,y,x] + spacing + origin +
 * direction) and the pure array operations every stage shares.
 *
 * ```ts
 * import { makeVolume } from "@lungflow/volume";
 * const v = makeVolume(new Int16Array(8).fill(-1000), [2, 2, 2], [2.5, 0.7, 0.7]);
 * ```
 */
export * from "./volume.js";
export * from "./errors.js";
