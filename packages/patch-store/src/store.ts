import type { Vec3, Volume } from "@lungflow/volume";
import FileSystemStore from "@zarrita/storage/fs";
import { ChunkCache } from "./chunk-cache.js";
import { registerCrc32c } from "./crc32c.js";
import type { FeatureArray, FeatureAttrs, FeatureShape } from "./features/feature-meta.js";
import {
  type FeatureSetSummary,
  featureSets,
  listFeatures,
  type PatientFeatureSet,
} from "./features/list-features.js";
import { readFeatures } from "./features/read-features.js";
import type { WriteFeaturesOptions } from "./features/write-features.js";
import { type ClaimOptions, claimPatient, type PatientClaim } from "./patient-claim.js";
import type {
  PatientAttrs,
  PatientSource,
  PreprocessingParams,
  RootAttrs,
  Split,
} from "./schema.js";
import { removeFeaturesOf, writeFeaturesOf } from "./store/feature-writes.js";
import {
  type ImportLabelsResult,
  importLabels,
  makeSplit,
  syncLabelMirrors,
} from "./store/labels-split.js";
import { leftovers } from "./store/leftovers.js";
import { removePatient, writePatient } from "./store/patient-writes.js";
import { getPatient, listPatients } from "./store/patients.js";
import { type ArrayName, chunkPath, readChunk } from "./store/read-chunk.js";
import { type ReadPatchOptions, readPatch } from "./store/read-patch.js";
import { readVolume } from "./store/read-volume.js";
import { recoverStore } from "./store/recover.js";
import { ReentrantLock } from "./store/reentrant-lock.js";
import { readRootAttrs } from "./store/root-attrs.js";
import type { StoreState } from "./store/state.js";
import { type VerifyReport, verifyStore } from "./verify.js";
import { withWriteErrors } from "./write-failure.js";
import type { WriteOptions } from "./write-patient.js";
import { registerZstd } from "./zstd-codec.js";

registerCrc32c();
registerZstd();

/**
 * A patch store: Zarr v3 on a directory. Open with `openStore`. Reads are safe from
 * any number of processes and threads; writes (`writePatient`, labels, splits, `recover`)
 * belong to the holder of the store lock (`lock()`) and its worker threads. Each method
 * delegates to the module of its job under `src/store/`.
 */
export class PatchStore {
  readonly root: string;
  readonly #s: StoreState;
  readonly #lock: ReentrantLock;

  constructor(root: string, rootAttrs: RootAttrs, cacheBytes: number) {
    this.root = root;
    this.#s = {
      root,
      fsStore: new FileSystemStore(root),
      rootAttrs,
      cache: new ChunkCache(cacheBytes),
      handles: new Map(),
    };
    this.#lock = new ReentrantLock(root);
  }

  /** The root attributes (`lungflow`): schema, parameters, labels, split. */
  get rootAttrs(): RootAttrs {
    return this.#s.rootAttrs;
  }

  get params(): PreprocessingParams {
    return this.#s.rootAttrs.params;
  }

  /** Chunk cache statistics. */
  get cacheStats(): { hits: number; misses: number; bytes: number; chunks: number } {
    const c = this.#s.cache;
    return { hits: c.hits, misses: c.misses, bytes: c.bytes, chunks: c.size };
  }

  /** Re-reads the root attributes and forgets cached patient handles and chunks. */
  async refresh(): Promise<void> {
    this.#s.rootAttrs = await readRootAttrs(this.root);
    this.#s.handles.clear();
    this.#s.cache.clear();
  }

  /** Sorted ids of the patients in the store. */
  async listPatients(): Promise<string[]> {
    return listPatients(this.root);
  }

  /** Attributes of every patient (sorted by id). */
  async patients(): Promise<PatientAttrs[]> {
    const out: PatientAttrs[] = [];
    for (const id of await this.listPatients()) {
      const a = await this.getPatient(id);
      if (a) out.push(a);
    }
    return out;
  }

  /**
   * A patient's attributes; `undefined` if the patient is not in the store, a
   * `PATIENT_CORRUPT` error if its metadata cannot be read. The label comes from the
   * root labels (the authoritative copy).
   */
  async getPatient(id: string): Promise<PatientAttrs | undefined> {
    return getPatient(this.root, this.#s.rootAttrs, id);
  }

  /** Path of a chunk file, for messages. */
  chunkPath(id: string, array: ArrayName, coords: number[]): string {
    return chunkPath(this.root, id, array, coords);
  }

  /** One decoded chunk (full chunk shape, edge chunks padded with the fill value). */
  async readChunk(
    id: string,
    array: ArrayName,
    coords: number[],
    opts: { cache?: boolean; signal?: AbortSignal } = {},
  ): Promise<Int16Array | Uint8Array> {
    return readChunk(this.#s, id, array, coords, opts);
  }

  /**
   * Reads a box `[origin, origin + size)` (voxels, `[z,y,x]`, of the stored cropped array)
   * decoding only the chunks it touches, through the LRU chunk cache. Parts outside the
   * array are filled with -1000 HU (air) for `hu` and 0 for `mask` (or `opts.fill`), so
   * patches centred near the edge of the lungs need no special casing.
   */
  async readPatch(
    id: string,
    origin: Vec3,
    size: Vec3,
    opts: ReadPatchOptions = {},
  ): Promise<Int16Array | Uint8Array> {
    return readPatch(this.#s, id, origin, size, opts);
  }

  /** A whole stored array as a Volume (spacing, origin and direction from the attributes). */
  async readVolume(
    id: string,
    array: "hu",
    opts?: { signal?: AbortSignal },
  ): Promise<Volume<Int16Array>>;
  async readVolume(
    id: string,
    array: "mask",
    opts?: { signal?: AbortSignal },
  ): Promise<Volume<Uint8Array>>;
  async readVolume(
    id: string,
    array?: ArrayName,
    opts?: { signal?: AbortSignal },
  ): Promise<Volume<Int16Array | Uint8Array>>;
  async readVolume(
    id: string,
    array: ArrayName = "hu",
    opts: { signal?: AbortSignal } = {},
  ): Promise<Volume<Int16Array | Uint8Array>> {
    return readVolume(this.#s, id, array, opts);
  }

  /**
   * Writes (or atomically replaces) one patient. The caller holds the patient's claim
   * (`claimPatient`, passed as `opts.claim`) or the store lock (or is a worker of its holder). Refuses data made with other
   * preprocessing parameters (`PARAMS_MISMATCH`).
   */
  async writePatient(
    input: {
      id: string;
      hu: Volume<Int16Array>;
      mask: Volume<Uint8Array>;
      source: PatientSource;
      params: PreprocessingParams;
    },
    opts: WriteOptions = {},
  ): Promise<PatientAttrs> {
    return writePatient(this.#s, input, opts);
  }

  /** Removes a patient (one rename out of `patients/`, then deletion). */
  async removePatient(id: string): Promise<boolean> {
    return removePatient(this.#s, id);
  }

  /**
   * Writes (or atomically replaces) the encoder features of symmetry `k` (0..47) of a
   * patient: `patients/<id>/features/<encoderId>/s<k>`, float32 `[z,y,x,c]`. `meta` (encoder
   * config, stride, receptive field, ...) is stored with the array. A kill at any moment
   * leaves no `s<k>`, the old one or the new one. Like `writePatient`, the caller holds the
   * store lock (`lock({ purpose: "features" })`) or is a worker of its holder.
   *
   * @throws StoreError `PATIENT_NOT_FOUND`, `SOURCE_CHANGED` (re-ingested since the caller
   *   read it: `expectSourceHash`, or during the write), `FEATURES_NOT_FINITE`,
   *   `INVALID_ENCODER_ID`, `INVALID_PATIENT_ID`, `INVALID_ARGUMENT`.
   */
  async writeFeatures(
    id: string,
    encoderId: string,
    k: number,
    features: { data: Float32Array; shape: FeatureShape },
    meta: Record<string, unknown> = {},
    opts: WriteFeaturesOptions = {},
  ): Promise<FeatureAttrs> {
    return writeFeaturesOf(this, id, encoderId, k, features, meta, opts);
  }

  /**
   * The features of symmetry `k` written by `encoderId` for a patient; `undefined` when
   * absent. A corrupt chunk throws `ChunkDecodeError` (naming the chunk file), a missing one
   * `CHUNK_MISSING`, bad metadata `FEATURES_CORRUPT`.
   */
  async readFeatures(
    id: string,
    encoderId: string,
    k: number,
    opts: { signal?: AbortSignal } = {},
  ): Promise<FeatureArray | undefined> {
    return readFeatures(this.root, id, encoderId, k, opts);
  }

  /** A patient's feature sets: encoder id, stored symmetries, common meta (`[]` if none). */
  async listFeatures(id: string): Promise<PatientFeatureSet[]> {
    return listFeatures(this.root, id);
  }

  /** Per encoder id: patients, arrays, complete (all 48) patients, symmetries; sorted. */
  async featureSets(): Promise<FeatureSetSummary[]> {
    return featureSets(this.root, await this.listPatients());
  }

  /**
   * Removes one encoder's features of a patient, or all of them without `encoderId` (one
   * rename, then deletion). The caller holds the store lock. False if nothing was there.
   */
  async removeFeatures(id: string, encoderId?: string): Promise<boolean> {
    return removeFeaturesOf(this.root, id, encoderId);
  }

  /**
   * Claims one patient for writing (see {@link claimPatient}): the per-patient lease that
   * lets many writers share the store. Pass the claim to `writePatient` so a writer whose
   * lease ran out moves nothing in.
   */
  claimPatient(id: string, opts?: ClaimOptions): Promise<PatientClaim> {
    return claimPatient(this.root, id, opts);
  }

  /**
   * Takes the store's write lock (re-entrant within this PatchStore). Waits up to
   * `timeoutMs` (default 0) for another live holder, then throws `STORE_LOCKED`.
   */
  async lock(
    opts: { timeoutMs?: number; purpose?: string; signal?: AbortSignal } = {},
  ): Promise<{ release(): Promise<void> }> {
    return this.#lock.acquire(opts);
  }

  /**
   * Cleans up after crashed writers (call with the lock held; `lock`-taking commands do it):
   * a complete staged patient whose target is missing (crash between the two renames of a
   * replacement) is moved into place, and so is a complete staged feature array
   * (`patients/<id>/features/<enc>/s<k>` in `rolledForward`) when its patient is unchanged;
   * any other staging folder, `.trash` and temporary files are deleted. Returns what it did.
   */
  async recover(): Promise<{ rolledForward: string[]; removed: string[] }> {
    const step = { store: this.root, writing: "the clean-up of leftovers", path: this.root };
    return withWriteErrors(step, () => recoverStore(this.#s));
  }

  /**
   * Leftovers of crashed writers (`.staging`, `.trash` entries, temporary feature folders),
   * without touching them.
   */
  async leftovers(): Promise<string[]> {
    return leftovers(this.root);
  }

  /**
   * Imports Kaggle labels (`id,cancer`). The whole file is checked first (header, 0/1
   * values, duplicates, ids not in the store unless `unknown: "ignore"`); any problem
   * throws a `LabelsError` listing every line and nothing is applied. The labels are then
   * written in one atomic update of the root attributes (the authoritative copy) and
   * mirrored into each patient's `label` attribute.
   */
  async importLabels(
    csvText: string,
    opts: { file?: string; unknown?: "error" | "ignore"; replace?: boolean } = {},
  ): Promise<ImportLabelsResult> {
    return this.#lock.run("labels", () => importLabels(this.#s, csvText, opts));
  }

  /** Rewrites each patient's `label` attribute from the root labels where they differ. */
  async syncLabelMirrors(): Promise<number> {
    return syncLabelMirrors(this.#s);
  }

  /**
   * Makes and stores (root attribute `lungflow.split`) a seeded stratified partition:
   * `validationFraction` of each class of labelled patients to validation, the rest to
   * train, unlabelled patients to test. Same seed, ids and labels give the same split.
   */
  async makeSplit(opts: { seed: number; validationFraction?: number }): Promise<Split> {
    return this.#lock.run("split", () => makeSplit(this.#s, opts));
  }

  /** The stored split, if any. */
  get split(): Split | undefined {
    return this.#s.rootAttrs.split;
  }

  /**
   * Decodes every chunk of every patient and checks metadata and shapes; returns a report
   * (`ok` false when anything is wrong). Leftovers of crashed writers are listed but are
   * not corruption.
   */
  async verify(
    opts: { signal?: AbortSignal; onPatient?: (id: string) => void } = {},
  ): Promise<VerifyReport> {
    return verifyStore(this, opts);
  }
}
