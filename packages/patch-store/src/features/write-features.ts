import * as fs from "node:fs/promises";
import * as path from "node:path";
import * as zarr from "zarrita";
import { boundedQueue } from "../bounded-queue.js";
import { StoreError } from "../errors.js";
import { removeTree, token } from "../fs-util.js";
import { NamedFileSystemStore } from "../named-fs-store.js";
import type { PatientAttrs } from "../schema.js";
import { ensureEncoderGroup, narrowGroupMeta } from "./encoder-group.js";
import type { FeatureAttrs, FeatureShape } from "./feature-meta.js";
import { checkFeatureKey, featureArrayDir, stagingName } from "./feature-paths.js";

/** Options of `PatchStore.writeFeatures`. */
export interface WriteFeaturesOptions {
  /**
   * Chunk edge along z, y, x in feature voxels, one number or `[cz, cy, cx]` (default 16;
   * clamped to the shape). A chunk always holds all C channels of its voxels.
   */
  chunk?: number | [number, number, number];
  /** zstd level, 1 (fast) .. 22 (small) (default 3). */
  zstdLevel?: number;
  /**
   * The patient's `sourceHash` the features were computed from (as read before running the
   * encoder). When the stored patient's hash differs (re-ingested in between), nothing is
   * written and `SOURCE_CHANGED` is thrown.
   */
  expectSourceHash?: string;
  signal?: AbortSignal;
}

/** What `writeFeatures` needs of the store. */
export interface FeatureStoreView {
  readonly root: string;
  getPatient(id: string): Promise<PatientAttrs | undefined>;
}

function invalid(message: string, context: Record<string, unknown>): StoreError {
  return new StoreError("INVALID_ARGUMENT", message, context);
}

/** Validates the input; returns the JSON copy of `meta` that will be stored. */
function checkInput(
  id: string,
  encoderId: string,
  k: number,
  features: { data: Float32Array; shape: FeatureShape },
  meta: Record<string, unknown>,
  level: number,
): Record<string, unknown> {
  checkFeatureKey(id, encoderId, k);
  const ctx = { patientId: id, encoderId, k };
  const { data, shape } = features;
  if (
    !Array.isArray(shape) ||
    shape.length !== 4 ||
    shape.some((n) => !Number.isInteger(n) || n <= 0)
  ) {
    throw invalid(`features shape ${JSON.stringify(shape)} must be 4 positive integers [z,y,x,c]`, {
      ...ctx,
      shape,
    });
  }
  if (!(data instanceof Float32Array)) throw invalid("features data must be a Float32Array", ctx);
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  if (data.length !== n) {
    throw invalid(`features data has ${data.length} values, shape ${shape.join("x")} needs ${n}`, {
      ...ctx,
      shape,
      length: data.length,
    });
  }
  if (!Number.isInteger(level) || level < 1 || level > 22)
    throw invalid(`zstd level must be an integer in 1..22, got ${level}`, { ...ctx, level });
  let bad = 0;
  let first = -1;
  for (let i = 0; i < n; i++) {
    // v - v is 0 for finite v and NaN for NaN and ±Infinity.
    if (data[i] - data[i] !== 0) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad) {
    const C = shape[3];
    const X = shape[2];
    const Y = shape[1];
    const at = [
      Math.floor(first / (C * X * Y)),
      Math.floor(first / (C * X)) % Y,
      Math.floor(first / C) % X,
      first % C,
    ];
    throw new StoreError(
      "FEATURES_NOT_FINITE",
      `features of patient ${id}, encoder ${encoderId}, symmetry ${k}: ${bad} value(s) are NaN or infinite (first ${data[first]} at [z,y,x,c] = [${at.join(",")}]); nothing was written`,
      { ...ctx, count: bad, first: at, value: String(data[first]) },
    );
  }
  if (!meta || typeof meta !== "object" || Array.isArray(meta))
    throw invalid("features meta must be a plain object", ctx);
  try {
    return JSON.parse(JSON.stringify(meta)) as Record<string, unknown>;
  } catch (err) {
    throw new StoreError("INVALID_ARGUMENT", `features meta is not JSON-serialisable`, ctx, {
      cause: err,
    });
  }
}

/** The patient as it is now; throws unless it is the one the write started from. */
async function checkPatient(
  store: FeatureStoreView,
  id: string,
  encoderId: string,
  k: number,
  expect: { sourceHash?: string; ingestedAt?: string },
): Promise<PatientAttrs> {
  const p = await store.getPatient(id);
  if (!p) {
    throw new StoreError("PATIENT_NOT_FOUND", `patient ${id} is not in the store ${store.root}`, {
      patientId: id,
      store: store.root,
    });
  }
  const hashDiffers = expect.sourceHash !== undefined && p.sourceHash !== expect.sourceHash;
  if (hashDiffers || (expect.ingestedAt !== undefined && p.ingestedAt !== expect.ingestedAt)) {
    throw new StoreError(
      "SOURCE_CHANGED",
      `patient ${id} was re-ingested (source hash ${p.sourceHash}, ingested ${p.ingestedAt}) after its features for encoder ${encoderId}, symmetry ${k} were computed (from source hash ${expect.sourceHash ?? "?"}${expect.ingestedAt ? `, ingested ${expect.ingestedAt}` : ""}); nothing was written, recompute them`,
      {
        patientId: id,
        encoderId,
        k,
        storedSourceHash: p.sourceHash,
        expectedSourceHash: expect.sourceHash,
      },
    );
  }
  return p;
}

/**
 * Writes (or atomically replaces) `patients/<id>/features/<encoderId>/s<k>`: the array is
 * written whole into `.staging/features~<id>~<encoderId>~s<k>~<token>`, renamed to `….ready`,
 * then moved into place with one rename (an existing version first goes to `.trash/`). A kill
 * at any moment leaves no `s<k>`, the old one or the new one; `recover()` finishes or drops
 * what is left in `.staging/`. The caller holds the store lock (or is a worker of its holder).
 */
export async function writeFeatures(
  store: FeatureStoreView,
  id: string,
  encoderId: string,
  k: number,
  features: { data: Float32Array; shape: FeatureShape },
  meta: Record<string, unknown> = {},
  opts: WriteFeaturesOptions = {},
): Promise<FeatureAttrs> {
  const level = opts.zstdLevel ?? 3;
  const storedMeta = checkInput(id, encoderId, k, features, meta, level);
  const root = store.root;
  const patient = await checkPatient(store, id, encoderId, k, {
    sourceHash: opts.expectSourceHash,
  });
  const shape = [...features.shape] as FeatureShape;
  const c = opts.chunk ?? 16;
  const edge = typeof c === "number" ? [c, c, c] : c;
  if (edge.length !== 3 || edge.some((n) => !Number.isInteger(n) || n <= 0))
    throw invalid(`chunk ${JSON.stringify(c)} must be a positive integer or three`, { chunk: c });
  const chunk = [...edge.map((n, a) => Math.min(n, shape[a])), shape[3]];
  const attrs: FeatureAttrs = {
    encoderId,
    symmetry: k,
    shape,
    patientSourceHash: patient.sourceHash,
    patientIngestedAt: patient.ingestedAt,
    writtenAt: new Date().toISOString(),
    meta: storedMeta,
  };
  await ensureEncoderGroup(root, id, encoderId, storedMeta);

  const tok = token();
  const work = path.join(root, ".staging", stagingName(id, encoderId, k, tok));
  const ready = `${work}.ready`;
  await fs.mkdir(work, { recursive: true });
  try {
    const arr = await zarr.create(zarr.root(new NamedFileSystemStore(work)), {
      shape,
      chunkShape: chunk,
      dtype: "float32",
      fillValue: 0,
      dimensionNames: ["z", "y", "x", "c"],
      codecs: [
        { name: "bytes", configuration: { endian: "little" } },
        { name: "zstd", configuration: { level, checksum: false } },
        { name: "crc32c", configuration: {} },
      ],
      attributes: { ...attrs },
    });
    const [, Y, X, C] = shape;
    await zarr.set(
      arr,
      null,
      { data: features.data, shape, stride: [Y * X * C, X * C, C, 1] },
      { createQueue: boundedQueue(4), signal: opts.signal },
    );
    opts.signal?.throwIfAborted();
    await fs.rename(work, ready);
  } catch (err) {
    await removeTree(work);
    throw err;
  }

  const target = featureArrayDir(root, id, encoderId, k);
  const trash = path.join(root, ".trash", path.basename(work));
  try {
    // Re-ingested while the array was written: these features belong to the old volume.
    await checkPatient(store, id, encoderId, k, patient);
    // Before the array appears, so that the group's meta never names a value one of its
    // arrays lacks (a kill after the publishing rename must leave a consistent group).
    await narrowGroupMeta(root, id, encoderId, storedMeta);
    await fs.mkdir(path.dirname(trash), { recursive: true });
  } catch (err) {
    await removeTree(ready);
    throw err;
  }
  let movedOld = false;
  try {
    await fs.rename(target, trash);
    movedOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      await removeTree(ready);
      throw err;
    }
  }
  try {
    await fs.rename(ready, target);
  } catch (err) {
    if (movedOld) await fs.rename(trash, target).catch(() => undefined);
    await removeTree(ready);
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      // The encoder folder vanished: the patient was replaced or removed meanwhile.
      await checkPatient(store, id, encoderId, k, patient);
    }
    throw err;
  }
  await removeTree(trash);
  return attrs;
}
