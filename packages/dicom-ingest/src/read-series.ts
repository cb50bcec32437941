import path from "node:path";
import {
  makeVolume,
  type SlabRunner,
  serialSlabs,
  slabCount,
  type Vec3,
  type Volume,
} from "@lungflow/volume";
import { type Classified, classifyFile, type SkippedFile } from "./classify.js";
import { assemble, type DiscoveredPatient } from "./discover.js";
import { DicomError, type DicomErrorCode, isDicomError } from "./errors.js";
import type { SliceHeader } from "./header.js";
import { huParams, storedToHu } from "./hu.js";
import { DEFAULT_TOLERANCES, type DicomWarning, planSeries, type Tolerances } from "./plan.js";
import { isNativeSlab, readNativeSlicesKernel } from "./read-native-slices.js";
import type { SeriesCandidate } from "./series.js";
import type { Ctx } from "./slice-format.js";
import { isNativeSlice, readSliceWords } from "./slice-reader.js";
import { mapLimit, walkFiles } from "./walk.js";

export interface ReadSeriesOptions {
  /** Validation tolerances (defaults: {@link DEFAULT_TOLERANCES}). */
  tolerances?: Partial<Tolerances>;
  /** Files in flight while scanning a folder (default 8; see `DiscoverOptions.concurrency`). */
  concurrency?: number;
  /** Bytes read to parse a header (default 32 KiB). */
  headerBytes?: number;
  signal?: AbortSignal;
  /** Paths to leave out when walking a folder: `(path, isDirectory) => boolean`. */
  ignore?: (path: string, isDirectory: boolean) => boolean;
  /**
   * Reads a native series' slices in parts that a threaded runner may read at once (the
   * volume is then allocated by the runner, on shared memory). Same voxels either way.
   * Default: every slice on the calling thread.
   */
  runner?: SlabRunner;
  /**
   * Read each file of a native series whole, once, and return its SHA-256 in
   * `meta.fileDigests` (the bytes hashed are the bytes read, no second pass). Files read
   * otherwise (compressed series, dropped duplicates) are not listed.
   */
  digest?: boolean;
}

/** SHA-256 and size of one file, as read for its pixels. */
export interface FileDigest {
  file: string;
  bytes: number;
  /** Hex. */
  sha256: string;
}

/** What was read, from where, and what was noticed on the way. */
export interface SeriesMeta {
  patientId: string;
  studyInstanceUid?: string;
  seriesInstanceUid: string;
  seriesDescription?: string;
  seriesDir: string;
  /** Files whose pixels are in the volume, one per slice, in z order. */
  files: string[];
  /** Number of files in the volume (= files.length = sourceShape[0]). */
  fileCount: number;
  /** `[nz, ny, nx]` of the HU volume as read (before any resampling). */
  sourceShape: Vec3;
  /** `[dz, dy, dx]` mm; dz from the slice positions (never SliceThickness). */
  sourceSpacing: Vec3;
  /** SliceThickness of the first slice, for information only. */
  sliceThickness?: number;
  transferSyntaxUids: string[];
  acquisitionNumbers: number[];
  warnings: DicomWarning[];
  /** Files in the input that belong to no CT image series. */
  skipped: SkippedFile[];
  /** With `digest: true`: the files of the volume, hashed as they were read. */
  fileDigests?: FileDigest[];
}

export interface SeriesRead {
  volume: Volume<Int16Array>;
  meta: SeriesMeta;
}

/** Slices per part when a runner splits the read (a part is a few ms of I/O and HU). */
const SLAB_SLICES = 8;

const PER_FILE_CODES: DicomErrorCode[] = [
  "NOT_DICOM",
  "NOT_CT",
  "LOCALIZER",
  "SECONDARY_CAPTURE",
  "NO_PIXEL_DATA",
  "MULTI_FRAME",
];

/**
 * Reads one CT series into an Int16 HU volume. `input` is a folder (walked recursively), a
 * list of files, or a series found by `discoverSeries`. Files that are not CT images
 * (non-DICOM, localizers, ...) are skipped with a warning; if the input holds several CT
 * series the rule of `rankSeries` picks one (warning OTHER_SERIES).
 * Throws DicomError (see the README's table) when the series cannot become a valid volume.
 */
export async function readSeries(
  input: string | string[] | SeriesCandidate,
  opts: ReadSeriesOptions = {},
): Promise<SeriesRead> {
  if (typeof input === "object" && !Array.isArray(input)) return readCandidate(input, opts, [], []);
  const files: AsyncIterable<string> | string[] =
    typeof input === "string"
      ? walkFiles(input, { signal: opts.signal, ignore: opts.ignore })
      : input;
  const accepted: SliceHeader[] = [];
  const skipped: SkippedFile[] = [];
  let count = 0;
  for await (const r of mapLimit(files, opts.concurrency ?? 8, (f) =>
    classifyFile(f, opts.headerBytes),
  ) as AsyncGenerator<Classified>) {
    count++;
    if (r.ok) accepted.push(r.header);
    else skipped.push(r.skipped);
  }
  const where = typeof input === "string" ? input : "(file list)";
  const disc = assemble(typeof input === "string" ? input : "/", count, accepted, skipped);
  const withSeries = disc.patients.filter((p) => p.chosen);
  if (withSeries.length > 1) {
    throw new DicomError(
      "MULTIPLE_PATIENTS",
      `${where}: CT images of ${withSeries.length} patients (${withSeries.map((p) => p.patientId).join(", ")})`,
      {
        seriesDir: typeof input === "string" ? input : undefined,
        reason: "several PatientIDs",
      },
    );
  }
  return readPatientSeries(withSeries[0], where, count, skipped, opts);
}

/** Reads the chosen series of a discovered patient, or throws the reason why there is none. */
export async function readPatientSeries(
  patient: DiscoveredPatient | undefined,
  where: string,
  fileCount: number,
  skipped: SkippedFile[],
  opts: ReadSeriesOptions,
): Promise<SeriesRead> {
  // A cut file among the inputs is almost surely a slice of the series: dropping it could
  // leave an undetectable hole (or a shorter volume), so the read fails, naming the file.
  const truncated = skipped.find((s) => s.code === "TRUNCATED");
  if (truncated) {
    throw new DicomError("TRUNCATED", `${truncated.file}: ${truncated.reason}`, {
      file: truncated.file,
      seriesDir: patient?.chosen?.seriesDir ?? where,
      seriesInstanceUid: patient?.chosen?.seriesInstanceUid,
      reason: truncated.reason,
    });
  }
  // A file of the chosen series (or one without a SeriesInstanceUID in its folders: cut
  // before it) that has no Pixel Data is a slice that cannot be read.
  const chosen = patient?.chosen;
  const dirs = new Set(chosen?.files.map((f) => path.dirname(f)));
  const noPixels = skipped.find(
    (s) =>
      s.code === "NO_PIXEL_DATA" &&
      (s.seriesInstanceUid === undefined
        ? dirs.has(path.dirname(s.file))
        : s.seriesInstanceUid === chosen?.seriesInstanceUid),
  );
  if (noPixels && chosen) {
    throw new DicomError(
      "NO_PIXEL_DATA",
      `${noPixels.file}: a file of series ${chosen.seriesInstanceUid} has no Pixel Data (${noPixels.reason}): a slice cannot be read`,
      {
        file: noPixels.file,
        seriesDir: chosen.seriesDir,
        seriesInstanceUid: chosen.seriesInstanceUid,
        reason: `no pixel data in a file of the series`,
      },
    );
  }
  if (!patient?.chosen) {
    const codes = new Set(skipped.map((s) => s.code));
    const only = codes.size === 1 ? [...codes][0] : undefined;
    const code: DicomErrorCode = only && PER_FILE_CODES.includes(only) ? only : "NO_SERIES";
    const summary = [...codes]
      .map((c) => `${skipped.filter((s) => s.code === c).length} ${c}`)
      .join(", ");
    throw new DicomError(
      code,
      `${where}: no CT image series among ${fileCount} files${summary ? ` (${summary})` : ""}`,
      {
        seriesDir: where,
        reason: summary || "no files",
        skipped: skipped.length,
      },
    );
  }
  const warnings: DicomWarning[] = [];
  if (skipped.length) {
    const bad = skipped.map((s) => `${s.file} (${s.code}: ${s.reason})`);
    warnings.push({
      code: "SKIPPED_FILES",
      message: `${skipped.length} file(s) skipped: ${bad.slice(0, 5).join("; ")}${bad.length > 5 ? "; ..." : ""}`,
      files: skipped.map((s) => s.file),
    });
  }
  for (const o of patient.others) {
    warnings.push({
      code: "OTHER_SERIES",
      message: `series ${o.series.seriesInstanceUid} (${o.series.files.length} files, ${o.series.seriesDir}) not read: ${o.reason}`,
      files: o.series.files,
    });
  }
  try {
    return await readCandidate(patient.chosen, opts, warnings, skipped);
  } catch (e) {
    throw withDroppedFiles(e, patient.chosen, skipped);
  }
}

/**
 * A gap in the slices (MISSING_SLICES, TOO_FEW_SLICES) beside files that were skipped in the
 * series' own folders is most likely those files: the error names them and why they were
 * dropped (`context.droppedFiles`), instead of only the position of the gap.
 */
function withDroppedFiles(e: unknown, c: SeriesCandidate, skipped: SkippedFile[]): unknown {
  if (!isDicomError(e, "MISSING_SLICES", "TOO_FEW_SLICES") || skipped.length === 0) return e;
  const dirs = new Set(c.files.map((f) => path.dirname(f)));
  const dropped = skipped.filter((s) => dirs.has(path.dirname(s.file)));
  if (dropped.length === 0) return e;
  const list = dropped.map((s) => `${s.file} (${s.code}: ${s.reason})`);
  e.context.droppedFiles = dropped.map((s) => ({ file: s.file, code: s.code, reason: s.reason }));
  e.context.file ??= dropped[0].file;
  e.message = `${e.message}; dropped from the series' folder: ${list.slice(0, 5).join("; ")}${list.length > 5 ? "; ..." : ""}`;
  return e;
}

async function readCandidate(
  c: SeriesCandidate,
  opts: ReadSeriesOptions,
  warnings: DicomWarning[],
  skipped: SkippedFile[],
): Promise<SeriesRead> {
  const ctx = { seriesDir: c.seriesDir, seriesInstanceUid: c.seriesInstanceUid };
  const tol = { ...DEFAULT_TOLERANCES, ...opts.tolerances };
  try {
    const plan = planSeries(c.headers, ctx, tol);
    warnings.push(...plan.warnings);
    const [nz, ny, nx] = plan.shape;
    const sliceSize = ny * nx;
    const headers = plan.slices.map((sl) => sl.header);
    // Native slices (the common case) go through the slab kernel when split or hashed.
    const slab = (opts.runner !== undefined || opts.digest === true) && isNativeSlab(headers);
    const runner = slab ? (opts.runner ?? serialSlabs) : serialSlabs;
    const out = allocateVolume(plan.shape, ctx, headers[0].file, opts.runner ?? serialSlabs);
    const scratch = plan.slices.some((s) => s.duplicates.length)
      ? new Int16Array(sliceSize)
      : undefined;
    const tsUids = new Set<string>();
    let fileDigests: FileDigest[] | undefined;
    if (slab) {
      const parts = runner === serialSlabs ? 1 : slabCount(nz, SLAB_SLICES);
      const digests = opts.digest ? runner.alloc(Uint8Array, 32 * nz) : undefined;
      const sizes = opts.digest ? runner.alloc(Float64Array, nz) : undefined;
      runner.forEach(readNativeSlicesKernel, parts, {
        headers,
        out,
        sliceSize,
        digests,
        sizes,
        parts,
      });
      if (digests && sizes) {
        fileDigests = headers.map((h, z) => ({
          file: h.file,
          bytes: sizes[z],
          sha256: Buffer.from(digests.buffer, digests.byteOffset + 32 * z, 32).toString("hex"),
        }));
      }
    }
    // Otherwise native pixel bytes are read synchronously, straight into their output slice, and
    // converted there, in place, while still in cache. Other files (compressed) are read
    // ahead (thread pool) while the current slice is decoded.
    const AHEAD = 2;
    const outBytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    const pending: Promise<Uint16Array>[] = [];
    const start = (z: number) => {
      const target = outBytes.subarray(z * sliceSize * 2, (z + 1) * sliceSize * 2);
      const p = readSliceWords(plan.slices[z].header, target);
      p.catch(() => {}); // awaited in order below
      pending[z] = p;
    };
    for (let z = 0; z < nz; z++) {
      opts.signal?.throwIfAborted();
      for (let k = 1; k <= AHEAD && z + k < nz; k++) {
        if (!pending[z + k] && !isNativeSlice(plan.slices[z + k].header)) start(z + k);
      }
      const sl = plan.slices[z];
      if (!slab) {
        for (let k = 1; k <= AHEAD && z + k < nz; k++) {
          if (!pending[z + k] && !isNativeSlice(plan.slices[z + k].header)) start(z + k);
        }
        if (!pending[z]) start(z);
        const words = await pending[z];
        delete pending[z];
        storedToHu(words, huParams(sl.header), out, z * sliceSize);
      }
      tsUids.add(sl.header.transferSyntaxUid ?? "");
      for (const dup of sl.duplicates) {
        const dw = await readSliceWords(dup);
        storedToHu(dw, huParams(dup), scratch!, 0);
        const mine = out.subarray(z * sliceSize, (z + 1) * sliceSize);
        if (!mine.every((v, i) => v === scratch![i])) {
          throw new DicomError(
            "DUPLICATE_SLICE_CONFLICT",
            `${dup.file} and ${sl.header.file} are at the same position (${sl.position.toFixed(3)} mm) with different pixels`,
            {
              ...ctx,
              file: dup.file,
              reason: "two different images at one position",
              otherFile: sl.header.file,
            },
          );
        }
        warnings.push({
          code: "DUPLICATE_SLICE_DROPPED",
          message: `${dup.file}: same position and pixels as ${sl.header.file}; dropped`,
          files: [dup.file],
        });
      }
    }
    const volume = makeVolume(out, plan.shape, plan.spacing, plan.origin, plan.direction);
    const h0 = plan.slices[0].header;
    const meta: SeriesMeta = {
      patientId: c.patientId,
      studyInstanceUid: c.studyInstanceUid,
      seriesInstanceUid: c.seriesInstanceUid,
      seriesDescription: c.seriesDescription,
      seriesDir: c.seriesDir,
      files: plan.slices.map((s) => s.header.file),
      fileCount: nz,
      sourceShape: plan.shape,
      sourceSpacing: plan.spacing,
      sliceThickness: h0.sliceThickness,
      transferSyntaxUids: [...tsUids].sort(),
      acquisitionNumbers: plan.acquisitionNumbers,
      warnings,
      skipped,
    };
    if (fileDigests) meta.fileDigests = fileDigests;
    return { volume, meta };
  } catch (e) {
    if (isDicomError(e)) {
      e.context.seriesDir ??= c.seriesDir;
      e.context.seriesInstanceUid ??= c.seriesInstanceUid;
      throw e;
    }
    // Anything else is a bug (or an abort), not an I/O error: I/O errors are DicomErrors
    // (READ_FAILED) where the file is read. Never relabel it.
    throw e;
  }
}

/**
 * Allocates the HU volume. Each slice was checked against its file and the plausible Rows and
 * Columns before this, so the size is what the series really holds; a series too big for
 * this process's memory is TOO_LARGE (not an I/O error).
 */
function allocateVolume(
  shape: readonly number[],
  ctx: Ctx,
  file: string,
  runner: SlabRunner,
): Int16Array {
  const voxels = shape[0] * shape[1] * shape[2];
  try {
    return runner.alloc(Int16Array, voxels);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const reason = `${shape.join(" x ")} voxels (${((voxels * 2) / 2 ** 30).toFixed(2)} GiB) cannot be allocated`;
    throw new DicomError(
      "TOO_LARGE",
      `${ctx.seriesDir ?? file}: the volume of ${reason}`,
      { ...ctx, file, reason, shape: [...shape] },
      { cause: e },
    );
  }
}
