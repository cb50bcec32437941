import * as fs from "node:fs/promises";
import * as path from "node:path";
import { makeVolume, type Vec3, type Volume } from "@lungflow/volume";
import FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { ChunkCache } from "./chunk-cache.js";
import { copyChunkToPatch } from "./copy-region.js";
import { registerCrc32c } from "./crc32c.js";
import { createStore, groupJson } from "./create-store.js";
import { ChunkDecodeError, StoreError } from "./errors.js";
import type { FeatureArray, FeatureAttrs, FeatureShape } from "./features/feature-meta.js";
import {
  type FeatureSetSummary,
  featureSets,
  listFeatures,
  type PatientFeatureSet,
  removeFeatures,
} from "./features/list-features.js";
import { readFeatures } from "./features/read-features.js";
import { featureTemporaries, recoverFeatures } from "./features/recover-features.js";
import { type WriteFeaturesOptions, writeFeatures } from "./features/write-features.js";
import { atomicWriteFile, listDir, mkdirp, readJsonFile, removeTree } from "./fs-util.js";
import { parseLabelsCsv } from "./labels.js";
import { acquireLock, type StoreLock } from "./lock.js";
import {
  type ClaimOptions,
  claimPatient,
  liveClaimIds,
  type PatientClaim,
  recoverClaims,
} from "./patient-claim.js";
import {
  isValidPatientId,
  type Label,
  type PatientAttrs,
  type PatientSource,
  type PreprocessingParams,
  paramsDiff,
  type RootAttrs,
  SCHEMA_VERSION,
  type Split,
} from "./schema.js";
import { stratifiedSplit } from "./split.js";
import { type VerifyReport, verifyStore } from "./verify.js";
import { withWriteErrors } from "./write-failure.js";
import { type WriteOptions, writePatientGroup } from "./write-patient.js";

registerCrc32c();

/** Which array of a patient: the cropped HU volume or its lung mask. */
export type ArrayName = "hu" | "mask";

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** Create the store (and its parent folders) when it does not exist (default false). */
  create?: boolean;
  /**
   * The preprocessing parameters the caller will write with. Required with `create`;
   * when the store exists, they must equal the stored ones (`PARAMS_MISMATCH` otherwise).
   */
  params?: PreprocessingParams;
  /** Byte budget of the decoded-chunk LRU cache used by `readPatch` (default 128 MiB). */
  cacheBytes?: number;
}

/** Options of {@link PatchStore.readPatch}. */
export interface ReadPatchOptions {
  /** `"hu"` (default) or `"mask"`. */
  array?: ArrayName;
  /** Value of voxels outside the stored array (default: -1000 HU (air) for hu, 0 for mask). */
  fill?: number;
  /** Use the chunk cache (default true). */
  cache?: boolean;
  signal?: AbortSignal;
}

/** Result of {@link PatchStore.importLabels}. */
export interface ImportLabelsResult {
  /** Labels in the file. */
  count: number;
  /** Patients whose label was new or different. */
  changed: number;
  /** Ids in the file that are not in the store (only with `unknown: "ignore"`). */
  ignored: string[];
}

interface Handles {
  attrs: PatientAttrs;
  hu: zarr.Array<"int16", FileSystemStore>;
  mask: zarr.Array<"uint8", FileSystemStore>;
}

const ROOT_META = "zarr.json";

/**
 * A patch store: Zarr v3 on a directory. Open with {@link openStore}. Reads are safe from
 * any number of processes and threads; writes (`writePatient`, labels, splits, `recover`)
 * belong to the holder of the store lock (`lock()`) and its worker threads.
 */
export class PatchStore {
  readonly root: string;
  readonly #fsStore: FileSystemStore;
  #rootAttrs: RootAttrs;
  readonly #cache: ChunkCache<Int16Array | Uint8Array>;
  readonly #handles = new Map<string, Promise<Handles>>();
  #lockDepth = 0;
  #lock: StoreLock | undefined;

  constructor(root: string, rootAttrs: RootAttrs, cacheBytes: number) {
    this.root = root;
    this.#fsStore = new FileSystemStore(root);
    this.#rootAttrs = rootAttrs;
    this.#cache = new ChunkCache(cacheBytes);
  }

  /** The root attributes (`lungflow`): schema, parameters, labels, split. */
  get rootAttrs(): RootAttrs {
    return this.#rootAttrs;
  }

  get params(): PreprocessingParams {
    return this.#rootAttrs.params;
  }

  /** Chunk cache statistics. */
  get cacheStats(): { hits: number; misses: number; bytes: number; chunks: number } {
    return {
      hits: this.#cache.hits,
      misses: this.#cache.misses,
      bytes: this.#cache.bytes,
      chunks: this.#cache.size,
    };
  }

  /** Re-reads the root attributes and forgets cached patient handles and chunks. */
  async refresh(): Promise<void> {
    this.#rootAttrs = await readRootAttrs(this.root);
    this.#handles.clear();
    this.#cache.clear();
  }

  /** Sorted ids of the patients in the store. */
  async listPatients(): Promise<string[]> {
    const entries = await listDir(path.join(this.root, "patients"));
    return entries
      .filter((e) => e.isDirectory() && isValidPatientId(e.name))
      .map((e) => e.name)
      .sort();
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
    if (!isValidPatientId(id)) return undefined;
    const file = path.join(this.root, "patients", id, ROOT_META);
    let meta: unknown;
    try {
      meta = await readJsonFile(file);
    } catch (err) {
      throw new StoreError(
        "PATIENT_CORRUPT",
        `patient ${id}: cannot parse ${file}`,
        { patientId: id, file },
        { cause: err },
      );
    }
    if (meta === undefined) {
      if (await dirExists(path.join(this.root, "patients", id))) {
        throw new StoreError("PATIENT_CORRUPT", `patient ${id}: ${file} is missing`, {
          patientId: id,
          file,
        });
      }
      return undefined;
    }
    const attrs = checkPatientMeta(id, meta, file);
    const { label: _mirrored, ...rest } = attrs;
    const label = this.#rootAttrs.labels[id];
    return label === undefined ? rest : { ...rest, label };
  }

  async #open(id: string): Promise<Handles> {
    let h = this.#handles.get(id);
    if (!h) {
      h = (async () => {
        const attrs = await this.getPatient(id);
        if (!attrs) {
          throw new StoreError(
            "PATIENT_NOT_FOUND",
            `patient ${id} is not in the store ${this.root}`,
            {
              patientId: id,
              store: this.root,
            },
          );
        }
        const loc = zarr.root(this.#fsStore);
        try {
          const hu = await zarr.open.v3(loc.resolve(`patients/${id}/hu`), { kind: "array" });
          const mask = await zarr.open.v3(loc.resolve(`patients/${id}/mask`), { kind: "array" });
          if (!hu.is("int16") || !mask.is("uint8"))
            throw new Error(`dtypes ${hu.dtype}/${mask.dtype}, expected int16/uint8`);
          for (const a of [hu, mask]) {
            if (a.shape.some((n, i) => n !== attrs.shape[i])) {
              throw new Error(
                `array shape ${a.shape.join("x")} differs from attrs shape ${attrs.shape.join("x")}`,
              );
            }
          }
          return { attrs, hu, mask } as Handles;
        } catch (err) {
          throw new StoreError(
            "PATIENT_CORRUPT",
            `patient ${id}: arrays unreadable: ${(err as Error).message}`,
            {
              patientId: id,
            },
            { cause: err },
          );
        }
      })();
      this.#handles.set(id, h);
      h.catch(() => this.#handles.delete(id));
    }
    return h;
  }

  /** Path of a chunk file, for messages. */
  chunkPath(id: string, array: ArrayName, coords: number[]): string {
    return path.join(this.root, "patients", id, array, "c", ...coords.map(String));
  }

  /** One decoded chunk (full chunk shape, edge chunks padded with the fill value). */
  async readChunk(
    id: string,
    array: ArrayName,
    coords: number[],
    opts: { cache?: boolean; signal?: AbortSignal } = {},
  ): Promise<Int16Array | Uint8Array> {
    const h = await this.#open(id);
    const arr = h[array];
    const load = async () => {
      try {
        const c = await arr.getChunk(coords, { signal: opts.signal });
        return c.data as Int16Array | Uint8Array;
      } catch (err) {
        if (zarr.isZarritaError(err, "CodecPipelineError")) {
          const e = err as unknown as { codec: string; direction: "encode" | "decode" };
          throw new ChunkDecodeError(
            {
              chunkPath: this.chunkPath(id, array, coords),
              codec: e.codec,
              direction: e.direction,
              patientId: id,
              array,
            },
            { cause: (err as Error).cause ?? err },
          );
        }
        throw err;
      }
    };
    if (opts.cache === false) return load();
    return this.#cache.get(`${id}@${h.attrs.ingestedAt}/${array}/${coords.join(".")}`, load);
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
    const array = opts.array ?? "hu";
    if (
      size.length !== 3 ||
      origin.length !== 3 ||
      size.some((n) => !Number.isInteger(n) || n <= 0) ||
      origin.some((n) => !Number.isInteger(n))
    ) {
      throw new StoreError(
        "INVALID_ARGUMENT",
        `readPatch: origin ${origin} and size ${size} must be 3 integers (size > 0)`,
        {
          patientId: id,
          origin,
          size,
        },
      );
    }
    const h = await this.#open(id);
    const arr = h[array];
    const shape = h.attrs.shape;
    const chunk = arr.chunks as Vec3;
    const n = size[0] * size[1] * size[2];
    const out = array === "hu" ? new Int16Array(n) : new Uint8Array(n);
    const inside = origin.every((o, a) => o >= 0 && o + size[a] <= shape[a]);
    if (!inside) out.fill(opts.fill ?? (array === "hu" ? -1000 : 0));
    const lo: number[] = [];
    const hi: number[] = [];
    for (let a = 0; a < 3; a++) {
      const s = Math.max(origin[a], 0);
      const e = Math.min(origin[a] + size[a], shape[a]);
      if (e <= s) return out;
      lo.push(Math.floor(s / chunk[a]));
      hi.push(Math.floor((e - 1) / chunk[a]));
    }
    const jobs: Promise<void>[] = [];
    for (let cz = lo[0]; cz <= hi[0]; cz++)
      for (let cy = lo[1]; cy <= hi[1]; cy++)
        for (let cx = lo[2]; cx <= hi[2]; cx++) {
          const coords: Vec3 = [cz, cy, cx];
          jobs.push(
            this.readChunk(id, array, coords, opts).then((data) => {
              const co = coords.map((c, a) => c * chunk[a]) as Vec3;
              copyChunkToPatch(data, co, chunk, out, origin, size, shape);
            }),
          );
        }
    await Promise.all(jobs);
    return out;
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
    const { attrs } = await this.#open(id);
    const data = await this.readPatch(id, [0, 0, 0], attrs.shape, {
      array,
      cache: false,
      signal: opts.signal,
    });
    return makeVolume(data, attrs.shape, attrs.spacing, attrs.origin, attrs.direction);
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
    const { id } = input;
    if (!isValidPatientId(id)) {
      throw new StoreError(
        "INVALID_PATIENT_ID",
        `invalid patient id "${id}" (letters, digits, ._- only, not starting with .)`,
        {
          patientId: id,
        },
      );
    }
    checkParams(this.root, this.#rootAttrs.params, input.params);
    const step = {
      store: this.root,
      writing: `patient ${id} (hu, mask, metadata)`,
      path: path.join(this.root, "patients", id),
      patientId: id,
    };
    const attrs = await withWriteErrors(step, () =>
      writePatientGroup(this.root, { ...input, label: this.#rootAttrs.labels[id] }, opts),
    );
    this.#handles.delete(id);
    this.#cache.clear(`${id}@`);
    return attrs;
  }

  /** Removes a patient (one rename out of `patients/`, then deletion). */
  async removePatient(id: string): Promise<boolean> {
    if (!isValidPatientId(id)) return false;
    const target = path.join(this.root, "patients", id);
    const trash = path.join(this.root, ".trash", `${id}~rm-${process.pid}-${Date.now()}`);
    const step = { store: this.root, writing: `the removal of patient ${id}`, path: target };
    const moved = await withWriteErrors(step, async () => {
      await mkdirp(path.dirname(trash));
      try {
        await fs.rename(target, trash);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw err;
      }
    });
    if (!moved) return false;
    await removeTree(trash).catch(() => undefined); // out of patients/ already; recover() ends it
    this.#handles.delete(id);
    return true;
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
    const step = {
      store: this.root,
      writing: `features ${encoderId}/s${k} of patient ${id}`,
      path: path.join(this.root, "patients", id, "features", encoderId, `s${k}`),
      patientId: id,
    };
    return withWriteErrors(step, () => writeFeatures(this, id, encoderId, k, features, meta, opts));
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
    const step = {
      store: this.root,
      writing: `the removal of ${encoderId ? `features ${encoderId}` : "all features"} of patient ${id}`,
      path: path.join(this.root, "patients", id, "features", encoderId ?? ""),
      patientId: id,
    };
    return withWriteErrors(step, () => removeFeatures(this.root, id, encoderId));
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
    if (this.#lockDepth === 0) this.#lock = await acquireLock(this.root, opts);
    this.#lockDepth++;
    let done = false;
    return {
      release: async () => {
        if (done) return;
        done = true;
        if (--this.#lockDepth === 0) {
          await this.#lock?.release();
          this.#lock = undefined;
        }
      },
    };
  }

  async #withLock<T>(purpose: string, fn: () => Promise<T>, timeoutMs = 0): Promise<T> {
    const l = await this.lock({ purpose, timeoutMs });
    try {
      return await fn();
    } finally {
      await l.release();
    }
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
    return withWriteErrors(step, () => this.#recover());
  }

  async #recover(): Promise<{ rolledForward: string[]; removed: string[] }> {
    const feat = await recoverFeatures(this.root, await this.listPatients(), (id) =>
      this.getPatient(id),
    );
    const rolledForward: string[] = feat.rolledForward;
    const removed: string[] = feat.removed;
    // Staging and trash of a patient with a live claim belong to a writer at work (another
    // process or host sharing the store): not leftovers.
    const busy = await liveClaimIds(this.root);
    const claimed = (name: string) => busy.has(name.split("~")[0]);
    const staging = path.join(this.root, ".staging");
    for (const e of await listDir(staging)) {
      if (claimed(e.name)) continue;
      const p = path.join(staging, e.name);
      const m = /^(.+)~[^~]+\.ready$/.exec(e.name);
      if (
        m &&
        isValidPatientId(m[1]) &&
        !(await dirExists(path.join(this.root, "patients", m[1])))
      ) {
        await fs.rename(p, path.join(this.root, "patients", m[1]));
        rolledForward.push(m[1]);
      } else {
        await removeTree(p);
        removed.push(path.join(".staging", e.name));
      }
    }
    for (const e of await listDir(path.join(this.root, ".trash"))) {
      if (claimed(e.name)) continue;
      await removeTree(path.join(this.root, ".trash", e.name));
      removed.push(path.join(".trash", e.name));
    }
    const tmpDirs = [this.root, path.join(this.root, "patients")];
    for (const id of await this.listPatients()) tmpDirs.push(path.join(this.root, "patients", id));
    for (const d of tmpDirs) {
      for (const e of await listDir(d)) {
        if (/^\..*\.tmp$/.test(e.name)) {
          await removeTree(path.join(d, e.name));
          removed.push(path.relative(this.root, path.join(d, e.name)));
        }
      }
    }
    removed.push(...(await recoverClaims(this.root)));
    if (rolledForward.length) this.#handles.clear();
    // A crash while labels were mirrored leaves some patient attributes stale: resync.
    this.#rootAttrs = await readRootAttrs(this.root);
    await this.syncLabelMirrors();
    return { rolledForward, removed };
  }

  /**
   * Leftovers of crashed writers (`.staging`, `.trash` entries, temporary feature folders),
   * without touching them.
   */
  async leftovers(): Promise<string[]> {
    const out: string[] = [];
    for (const d of [".staging", ".trash"]) {
      for (const e of await listDir(path.join(this.root, d))) out.push(path.join(d, e.name));
    }
    out.push(...(await featureTemporaries(this.root, await this.listPatients())));
    return out;
  }

  async #updateRoot(fn: (a: RootAttrs) => RootAttrs): Promise<RootAttrs> {
    const fresh = await readRootAttrs(this.root);
    const next = fn(fresh);
    const file = path.join(this.root, ROOT_META);
    const step = {
      store: this.root,
      writing: "the store's root metadata (labels, split)",
      path: file,
    };
    await withWriteErrors(step, () => atomicWriteFile(file, groupJson({ lungflow: next })));
    this.#rootAttrs = next;
    return next;
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
    return this.#withLock("labels", async () => {
      const ids = new Set(await this.listPatients());
      const parsed = parseLabelsCsv(
        csvText,
        opts.file ?? "<labels>",
        opts.unknown === "ignore" ? undefined : ids,
      );
      const ignored = [...parsed.keys()].filter((id) => !ids.has(id)).sort();
      let changed = 0;
      await this.#updateRoot((a) => {
        const labels: Record<string, Label> = opts.replace ? {} : { ...a.labels };
        for (const [id, l] of parsed) {
          if (!ids.has(id)) continue;
          if (labels[id] !== l) changed++;
          labels[id] = l;
        }
        return { ...a, labels: sortKeys(labels) };
      });
      await this.syncLabelMirrors();
      return { count: parsed.size, changed, ignored };
    });
  }

  /** Rewrites each patient's `label` attribute from the root labels where they differ. */
  async syncLabelMirrors(): Promise<number> {
    let n = 0;
    for (const id of await this.listPatients()) {
      const file = path.join(this.root, "patients", id, ROOT_META);
      const meta = (await readJsonFile(file).catch(() => undefined)) as
        | { attributes?: Record<string, unknown> }
        | undefined;
      if (!meta?.attributes) continue;
      const want = this.#rootAttrs.labels[id];
      if (meta.attributes.label === want) continue;
      if (want === undefined) delete meta.attributes.label;
      else meta.attributes.label = want;
      const step = { store: this.root, writing: `the label of patient ${id}`, path: file };
      await withWriteErrors(step, () => atomicWriteFile(file, JSON.stringify(meta, null, 2)));
      n++;
    }
    return n;
  }

  /**
   * Makes and stores (root attribute `lungflow.split`) a seeded stratified partition:
   * `validationFraction` of each class of labelled patients to validation, the rest to
   * train, unlabelled patients to test. Same seed, ids and labels give the same split.
   */
  async makeSplit(opts: { seed: number; validationFraction?: number }): Promise<Split> {
    return this.#withLock("split", async () => {
      const ids = await this.listPatients();
      const s = stratifiedSplit(ids, this.#rootAttrs.labels, {
        seed: opts.seed,
        validationFraction: opts.validationFraction ?? 0.2,
      });
      const split: Split = { ...s, createdAt: new Date().toISOString() };
      await this.#updateRoot((a) => ({ ...a, split }));
      return split;
    });
  }

  /** The stored split, if any. */
  get split(): Split | undefined {
    return this.#rootAttrs.split;
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

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function dirExists(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

function checkParams(root: string, stored: PreprocessingParams, given: PreprocessingParams): void {
  const diff = paramsDiff(stored, given);
  if (diff.length) {
    throw new StoreError(
      "PARAMS_MISMATCH",
      `store ${root} holds patients preprocessed with other parameters (${diff
        .map((k) => `${k}: store ${JSON.stringify(stored[k])}, given ${JSON.stringify(given[k])}`)
        .join("; ")}); use another store or the store's parameters`,
      { store: root, differing: diff, stored, given },
    );
  }
}

const REQUIRED: [keyof PatientAttrs, (v: unknown) => boolean][] = [
  [
    "bbox",
    (v) => Array.isArray(v) && v.length === 3 && v.every((p) => Array.isArray(p) && p.length === 2),
  ],
  ["shape", (v) => isVec3(v) && (v as number[]).every((n) => Number.isInteger(n) && n > 0)],
  ["spacing", isVec3],
  ["sourceSpacing", isVec3],
  ["sourceShape", isVec3],
  ["origin", isVec3],
  ["direction", (v) => Array.isArray(v) && v.length === 3 && v.every(isVec3)],
  ["otsuThreshold", (v) => typeof v === "number"],
  ["seriesInstanceUid", (v) => typeof v === "string"],
  ["fileCount", (v) => Number.isInteger(v)],
  ["sourceHash", (v) => typeof v === "string" && v.length > 0],
  ["ingestedAt", (v) => typeof v === "string"],
  ["lungflowVersion", (v) => typeof v === "string"],
];

function isVec3(v: unknown): boolean {
  return (
    Array.isArray(v) &&
    v.length === 3 &&
    v.every((x) => typeof x === "number" && Number.isFinite(x))
  );
}

/** Checks a patient group's zarr.json and returns its attributes (throws PATIENT_CORRUPT). */
export function checkPatientMeta(id: string, meta: unknown, file: string): PatientAttrs {
  const m = meta as {
    zarr_format?: unknown;
    node_type?: unknown;
    attributes?: Record<string, unknown>;
  };
  const bad = (why: string) =>
    new StoreError("PATIENT_CORRUPT", `patient ${id}: ${why} (${file})`, {
      patientId: id,
      file,
      reason: why,
    });
  if (m?.zarr_format !== 3 || m.node_type !== "group" || !m.attributes)
    throw bad("not a Zarr v3 group");
  const a = m.attributes;
  for (const [k, ok] of REQUIRED) {
    if (!ok(a[k]))
      throw bad(`attribute ${String(k)} missing or malformed (${JSON.stringify(a[k])})`);
  }
  const bbox = a.bbox as [number, number][];
  const shape = a.shape as number[];
  if (bbox.some(([s, e], i) => e - s !== shape[i]))
    throw bad(`bbox ${JSON.stringify(bbox)} does not match shape ${shape.join("x")}`);
  if (a.label !== undefined && a.label !== 0 && a.label !== 1)
    throw bad(`label ${JSON.stringify(a.label)} is not 0/1`);
  return { ...(a as unknown as PatientAttrs), id };
}

async function readRootAttrs(root: string): Promise<RootAttrs> {
  const file = path.join(root, ROOT_META);
  let meta: unknown;
  try {
    meta = await readJsonFile(file);
  } catch (err) {
    throw new StoreError(
      "STORE_INVALID",
      `cannot parse ${file}`,
      { store: root, file },
      { cause: err },
    );
  }
  if (meta === undefined) {
    throw new StoreError(
      "STORE_NOT_FOUND",
      `no patch store at ${root} (no ${ROOT_META}); create one with an ingest`,
      {
        store: root,
      },
    );
  }
  const l = (meta as { attributes?: { lungflow?: RootAttrs } }).attributes?.lungflow;
  if (!l || typeof l.schema !== "number" || !l.params) {
    throw new StoreError(
      "STORE_INVALID",
      `${root} is a Zarr group but not a lungflow store (no attributes.lungflow)`,
      {
        store: root,
        file,
      },
    );
  }
  if (l.schema !== SCHEMA_VERSION) {
    throw new StoreError(
      "STORE_INVALID",
      `store ${root} has schema ${l.schema}; this lungflow reads schema ${SCHEMA_VERSION}`,
      {
        store: root,
        schema: l.schema,
      },
    );
  }
  return { ...l, labels: l.labels ?? {} };
}

/**
 * Opens (or with `create`, creates) the patch store at `root`.
 *
 * @throws StoreError `STORE_NOT_FOUND`, `STORE_INVALID`, `PARAMS_MISMATCH`.
 */
export async function openStore(root: string, opts: OpenStoreOptions = {}): Promise<PatchStore> {
  const abs = path.resolve(root);
  const file = path.join(abs, ROOT_META);
  if (opts.create && (await readJsonFile(file).catch(() => "corrupt")) === undefined) {
    if (!opts.params) {
      throw new StoreError("INVALID_ARGUMENT", "creating a store needs the preprocessing params", {
        store: abs,
      });
    }
    await createStore(abs, {
      schema: SCHEMA_VERSION,
      params: opts.params,
      createdAt: new Date().toISOString(),
      labels: {},
    });
  }
  const rootAttrs = await readRootAttrs(abs);
  if (opts.params) checkParams(abs, rootAttrs.params, opts.params);
  return new PatchStore(abs, rootAttrs, opts.cacheBytes ?? 128 * 1024 * 1024);
}
