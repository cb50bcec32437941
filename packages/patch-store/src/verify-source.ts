import type { PatientAttrs, RootAttrs } from "./schema.js";
import type { ArrayName } from "./store/read-chunk.js";

/**
 * What `verifyStore` reads of a store, and nothing more: a `PatchStore` is one, and so is
 * any object that answers the same questions (a test double, a read-only view).
 */
export interface VerifySource {
  readonly root: string;
  /** Labels and split, to warn about entries naming patients not in the store. */
  readonly rootAttrs: Pick<RootAttrs, "labels" | "split">;
  listPatients(): Promise<string[]>;
  /** Attributes, `undefined` when absent; throws when the metadata is unreadable. */
  getPatient(id: string): Promise<PatientAttrs | undefined>;
  chunkPath(id: string, array: ArrayName, coords: number[]): string;
  readChunk(
    id: string,
    array: ArrayName,
    coords: number[],
    opts: { cache?: boolean; signal?: AbortSignal },
  ): Promise<Int16Array | Uint8Array>;
  /** Leftovers of crashed writers (listed, not corruption). */
  leftovers(): Promise<string[]>;
}
