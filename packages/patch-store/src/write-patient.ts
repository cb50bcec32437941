import * as fs from "node:fs/promises";
import * as path from "node:path";
import type { Vec3, Volume } from "@lungflow/volume";
import type FileSystemStore from "@zarrita/storage/fs";
import * as zarr from "zarrita";
import { boundedQueue } from "./bounded-queue.js";
import { StoreError } from "./errors.js";
import { removeTree, token } from "./fs-util.js";
import { NamedFileSystemStore } from "./named-fs-store.js";
import {
  type Label,
  OME_LABEL_NAME,
  omeLabelsMetadata,
  omeMetadata,
  type PatientAttrs,
  type PatientSource,
} from "./schema.js";

/** Storage options of one patient's arrays. */
export interface WriteOptions {
  /** Chunk edge in voxels, or `[cz, cy, cx]` (default 64; clamped to the array shape). */
  chunk?: number | Vec3;
  /** zstd level, 1 (fast) .. 22 (small) (default 3). */
  zstdLevel?: number;
  signal?: AbortSignal;
  /** The writer's claim on the patient: checked right before the move into `patients/`. */
  claim?: { check(): Promise<void> };
}

function chunkShapeFor(shape: Vec3, chunk: number | Vec3): Vec3 {
  const c = typeof chunk === "number" ? [chunk, chunk, chunk] : chunk;
  return shape.map((n, a) => Math.max(1, Math.min(c[a], n))) as Vec3;
}

/** Writes one array of a patient group (inside the staging folder). */
async function writeArray(
  store: FileSystemStore,
  name: "hu" | "mask",
  vol: Volume<Int16Array | Uint8Array>,
  chunk: Vec3,
  level: number,
  signal?: AbortSignal,
): Promise<void> {
  const isHu = name === "hu";
  const arr = await zarr.create(zarr.root(store).resolve(name), {
    shape: [...vol.shape],
    chunkShape: [...chunk],
    dtype: isHu ? "int16" : "uint8",
    fillValue: isHu ? -1000 : 0,
    dimensionNames: ["z", "y", "x"],
    codecs: [
      { name: "bytes", configuration: { endian: "little" } },
      { name: "zstd", configuration: { level, checksum: false } },
      { name: "crc32c", configuration: {} },
    ],
    attributes: {},
  });
  const [, ny, nx] = vol.shape;
  await zarr.set(
    // biome-ignore lint/suspicious/noExplicitAny: zarrita's dtype-generic set
    arr as any,
    null,
    { data: vol.data, shape: [...vol.shape], stride: [ny * nx, nx, 1] },
    { createQueue: boundedQueue(4), signal },
  );
}

/**
 * Exposes the written `mask` as the OME-NGFF label image `labels/mask` (dataset `0`): the
 * groups' metadata, the array's `zarr.json`, and its chunk files as hard links to the
 * mask's (a copy where the file system refuses links), so the label costs no extra space
 * and always holds the mask's bytes. Our readers keep using `mask`.
 */
async function writeOmeLabels(
  work: string,
  store: FileSystemStore,
  attrs: PatientAttrs,
): Promise<void> {
  const meta = omeLabelsMetadata(attrs.spacing, attrs.origin);
  await zarr.create(zarr.root(store).resolve("labels"), { attributes: { ome: meta.labels } });
  await zarr.create(zarr.root(store).resolve(`labels/${OME_LABEL_NAME}`), {
    attributes: { ome: meta.label },
  });
  const from = path.join(work, "mask");
  const to = path.join(work, "labels", OME_LABEL_NAME, "0");
  await fs.mkdir(to, { recursive: true });
  for (const f of await fs.readdir(from, { recursive: true, withFileTypes: true })) {
    if (!f.isFile()) continue;
    const src = path.join(f.parentPath, f.name);
    const dst = path.join(to, path.relative(from, src));
    await fs.mkdir(path.dirname(dst), { recursive: true });
    if (f.name === "zarr.json") await fs.copyFile(src, dst);
    else await fs.link(src, dst).catch(() => fs.copyFile(src, dst));
  }
}

/**
 * Writes a complete patient group into `<store>/.staging/<id>~<token>`, marks it ready with
 * a rename, then moves it into `patients/<id>` (an existing version is first moved to
 * `.trash`). Readers therefore see the old patient, no patient, or the new one, never a
 * partial one; `recover()` finishes or discards what a crash leaves in `.staging`.
 */
export async function writePatientGroup(
  root: string,
  input: {
    id: string;
    hu: Volume<Int16Array>;
    mask: Volume<Uint8Array>;
    source: PatientSource;
    label: Label | undefined;
  },
  opts: WriteOptions = {},
): Promise<PatientAttrs> {
  const { id, hu, mask, source } = input;
  if (hu.shape.some((n, a) => n !== mask.shape[a]) || hu.shape.some((n) => !(n > 0))) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `patient ${id}: hu ${hu.shape.join("x")} and mask ${mask.shape.join("x")} must have the same, non-empty shape`,
      { patientId: id, huShape: hu.shape, maskShape: mask.shape },
    );
  }
  const level = opts.zstdLevel ?? 3;
  if (!Number.isInteger(level) || level < 1 || level > 22) {
    throw new StoreError(
      "INVALID_ARGUMENT",
      `zstd level must be an integer in 1..22, got ${level}`,
      { level },
    );
  }
  const chunk = chunkShapeFor(hu.shape, opts.chunk ?? 64);
  const attrs: PatientAttrs = {
    id,
    ...source,
    spacing: [...hu.spacing] as Vec3,
    origin: [...hu.origin] as Vec3,
    direction: hu.direction,
    shape: [...hu.shape] as Vec3,
    ...(input.label !== undefined ? { label: input.label } : {}),
    ingestedAt: new Date().toISOString(),
  };
  const stagingDir = path.join(root, ".staging");
  const tok = token();
  const work = path.join(stagingDir, `${id}~${tok}`);
  const ready = `${work}.ready`;
  await fs.mkdir(work, { recursive: true });
  try {
    const store = new NamedFileSystemStore(work);
    await writeArray(store, "hu", hu, chunk, level, opts.signal);
    await writeArray(store, "mask", mask, chunk, level, opts.signal);
    await writeOmeLabels(work, store, attrs);
    // The group metadata last: a staging folder with it is complete.
    await zarr.create(zarr.root(store), {
      attributes: { ...attrs, ome: omeMetadata(id, attrs.spacing, attrs.origin) },
    });
    opts.signal?.throwIfAborted();
    await opts.claim?.check();
    await fs.rename(work, ready);
  } catch (err) {
    await removeTree(work).catch(() => undefined);
    throw err;
  }
  const target = path.join(root, "patients", id);
  const trash = path.join(root, ".trash", `${id}~${tok}`);
  let movedOld = false;
  try {
    await fs.mkdir(path.dirname(trash), { recursive: true });
    await fs.rename(target, trash);
    movedOld = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      await removeTree(ready).catch(() => undefined);
      throw err;
    }
  }
  try {
    await fs.rename(ready, target);
  } catch (err) {
    if (movedOld) await fs.rename(trash, target).catch(() => undefined);
    await removeTree(ready).catch(() => undefined);
    throw err;
  }
  // The patient is in: a failure to delete the old version must not report it failed.
  await removeTree(trash).catch(() => undefined);
  return attrs;
}
