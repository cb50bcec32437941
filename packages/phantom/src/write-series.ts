/**
 * Writes a phantom as a DICOM CT series (one file per slice) with the encoding options of
 * {@link EncodingOptions}, optionally broken in one documented way ({@link BrokenVariant}),
 * and its ground truth beside it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { encodeCtFile, type SeriesHeader, type SliceHeader } from "./dicom-file.js";
import {
  type EncodingOptions,
  encodeSlice,
  fovMask,
  pixelCoding,
  TRANSFER_SYNTAX,
} from "./encoding.js";
import { GROUND_TRUTH_DIR, writeGroundTruth } from "./ground-truth.js";
import { hashSeed, Rng } from "./rng.js";
import type { Phantom } from "./types.js";
import { makeUid } from "./uid.js";
import { BROKEN_VARIANTS, type BrokenVariant, planVariant, type VariantPlan } from "./variants.js";

/** Options of {@link writeSeries}. */
export interface WriteSeriesOptions extends EncodingOptions {
  /** Break the series in one way (default: none). */
  variant?: BrokenVariant;
  /** Write `<dir>/ground_truth/` (default true). */
  groundTruth?: boolean;
}

/** One file written. */
export interface WrittenFile {
  path: string;
  /**
   * `slice`: a slice of the main series; `overlap`: a slice of the second acquisition;
   * `localizer`, `second-series`, `duplicate`, `non-dicom`: the extra files of those variants.
   */
  role: "slice" | "overlap" | "localizer" | "second-series" | "duplicate" | "non-dicom";
  /** z index (axial) or x index (sagittal) in the phantom arrays, for slices. */
  sliceIndex?: number;
  instanceNumber?: number;
  sopInstanceUid?: string;
  seriesInstanceUid?: string;
  acquisitionNumber?: number;
  /** Set on the file cut short by the `truncated-file` variant. */
  truncated?: boolean;
}

/** What {@link writeSeries} wrote. */
export interface WrittenSeries {
  dir: string;
  patientId: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  transferSyntaxUid: string;
  pixelRepresentation: 0 | 1;
  rescaleIntercept: number;
  rescaleSlope: number;
  /** Raw PixelPaddingValue, or null when not used. */
  pixelPaddingValue: number | null;
  variant: BrokenVariant | null;
  /** Details of the breakage (which slice is missing, the tilt angle, ...). */
  broken: VariantPlan["broken"];
  files: WrittenFile[];
  /** Ground truth folder, when written. */
  groundTruthDir?: string;
  /** Total bytes of DICOM (and extra) files written. */
  bytes: number;
}

/** Writes `phantom` as a DICOM series into `dir` (created). Deterministic: same input, same bytes. */
export async function writeSeries(
  phantom: Phantom,
  dir: string,
  opts: WriteSeriesOptions = {},
): Promise<WrittenSeries> {
  if (opts.variant !== undefined && !BROKEN_VARIANTS.includes(opts.variant)) {
    throw new RangeError(
      `phantom: unknown variant "${opts.variant}" (one of ${BROKEN_VARIANTS.join(", ")})`,
    );
  }
  await mkdir(dir, { recursive: true });
  const [nz, ny, nx] = phantom.shape;
  const [dz, dy, dx] = phantom.spacing;
  const o = phantom.origin;
  const seed = phantom.seed;
  const pid = hashSeed(...Array.from(phantom.patientId, (ch) => ch.charCodeAt(0)));
  const uid = (...parts: number[]) => makeUid(seed, pid, ...parts);
  const coding = pixelCoding(opts);
  const ts = TRANSFER_SYNTAX[opts.transferSyntax ?? "explicit"];
  const rng = new Rng(hashSeed(seed, pid, 21));
  const day = hashSeed(seed, pid, 22) % 1500;
  const date = new Date(Date.UTC(2016, 0, 1) + day * 86400000)
    .toISOString()
    .slice(0, 10)
    .replaceAll("-", "");
  const secs = 8 * 3600 + (hashSeed(seed, pid, 23) % (9 * 3600));
  const time = [Math.floor(secs / 3600), Math.floor(secs / 60) % 60, secs % 60]
    .map((v) => String(v).padStart(2, "0"))
    .join("");
  const header: SeriesHeader = {
    patientId: phantom.patientId,
    studyUid: uid(1),
    seriesUid: uid(2),
    frameOfReferenceUid: uid(3),
    seriesNumber: 2,
    seriesDescription: "CHEST 1.25mm STANDARD",
    date,
    time,
    transferSyntaxUid: ts,
    coding,
    sliceThickness: dz,
    gantryTiltDeg: 0,
    reconstructionDiameter: nx * dx,
    bodyPart: "CHEST",
  };
  const plan = planVariant(opts.variant ?? null, phantom, rng);
  const fov = fovMask(ny, nx, phantom.fovRadiusPx);
  const where = (k: number) => `${phantom.patientId} slice ${k}`;

  // Main series: one file per axial slice (or per sagittal plane for that variant).
  interface Job {
    role: WrittenFile["role"];
    index: number;
    head: SeriesHeader;
    make: (sop: string, instance: number) => SliceHeader;
    acquisition: number;
  }
  const jobs: Job[] = [];
  const axial = (
    k: number,
    head: SeriesHeader,
    role: WrittenFile["role"],
    acquisition: number,
  ): Job => ({
    role,
    index: k,
    head,
    acquisition,
    make: (sop, instance) => ({
      sopUid: sop,
      instanceNumber: instance,
      acquisitionNumber: acquisition,
      imageType: ["ORIGINAL", "PRIMARY", "AXIAL"],
      rows: ny,
      columns: nx,
      pixelSpacing: [dy, dx],
      position: [o[0], o[1], o[2] + k * dz],
      orientation: [1, 0, 0, 0, 1, 0],
      sliceLocation: o[2] + k * dz,
      pixels: encodeSlice(
        phantom.hu.subarray(k * ny * nx, (k + 1) * ny * nx),
        fov,
        coding,
        where(k),
      ),
    }),
  });
  if (plan.sagittal) {
    const head = { ...header, seriesDescription: "CHEST SAGITTAL MPR" };
    const noPad = { ...coding, padding: null };
    head.coding = noPad;
    for (let x = 0; x < nx; x++) {
      jobs.push({
        role: "slice",
        index: x,
        head,
        acquisition: 1,
        make: (sop, instance) => {
          const hu = new Int16Array(nz * ny);
          for (let r = 0; r < nz; r++) {
            const z = nz - 1 - r;
            for (let c = 0; c < ny; c++) hu[r * ny + c] = phantom.hu[(z * ny + c) * nx + x];
          }
          return {
            sopUid: sop,
            instanceNumber: instance,
            acquisitionNumber: 1,
            imageType: ["DERIVED", "SECONDARY", "REFORMATTED"],
            rows: nz,
            columns: ny,
            pixelSpacing: [dz, dy],
            position: [o[0] + x * dx, o[1], o[2] + (nz - 1) * dz],
            orientation: [0, 1, 0, 0, 0, -1],
            sliceLocation: o[0] + x * dx,
            pixels: encodeSlice(hu, null, noPad, where(x)),
          };
        },
      });
    }
  } else if (plan.gantryTiltDeg !== 0) {
    const t = (plan.gantryTiltDeg * Math.PI) / 180;
    const cy = Math.cos(t);
    const sz = Math.sin(t);
    const head = { ...header, gantryTiltDeg: plan.gantryTiltDeg };
    for (let k = 0; k < nz; k++) {
      jobs.push({
        role: "slice",
        index: k,
        head,
        acquisition: 1,
        make: (sop, instance) => {
          // Pixel (r, c) lies at IPP + c dx (1,0,0) + r dy (0, cos t, sin t): sample the
          // phantom there (nearest voxel; -1000 outside it).
          const hu = new Int16Array(ny * nx).fill(-1000);
          for (let r = 0; r < ny; r++) {
            const y = Math.round((r * dy * cy) / dy);
            const z = Math.round((k * dz + r * dy * sz) / dz);
            if (y < 0 || y >= ny || z < 0 || z >= nz) continue;
            hu.set(phantom.hu.subarray((z * ny + y) * nx, (z * ny + y + 1) * nx), r * nx);
          }
          return {
            sopUid: sop,
            instanceNumber: instance,
            acquisitionNumber: 1,
            imageType: ["ORIGINAL", "PRIMARY", "AXIAL"],
            rows: ny,
            columns: nx,
            pixelSpacing: [dy, dx],
            position: [o[0], o[1], o[2] + k * dz],
            orientation: [1, 0, 0, 0, cy, sz],
            sliceLocation: o[2] + k * dz,
            pixels: encodeSlice(hu, fov, coding, where(k)),
          };
        },
      });
    }
  } else {
    for (let k = 0; k < nz; k++)
      if (k !== plan.missingSlice) jobs.push(axial(k, header, "slice", 1));
  }
  // Extra files of the variants that add DICOM files.
  if (plan.overlap) {
    for (let k = plan.overlap[0]; k < plan.overlap[1]; k++)
      jobs.push(axial(k, header, "overlap", 2));
  }
  if (plan.secondSeries) {
    const head: SeriesHeader = {
      ...header,
      seriesUid: uid(4),
      seriesNumber: 3,
      seriesDescription: "CHEST 2x THICK",
      sliceThickness: 2 * dz,
    };
    for (let k = 0; k < nz; k += 2) jobs.push(axial(k, head, "second-series", 1));
  }
  if (plan.localizer) {
    jobs.push({
      role: "localizer",
      index: -1,
      head: { ...header, coding: { ...coding, padding: null } },
      acquisition: 1,
      make: (sop, instance) => {
        // Coronal projection: mean HU along y, rows from the top (superior) slice down.
        const hu = new Int16Array(nz * nx);
        for (let r = 0; r < nz; r++) {
          const z = nz - 1 - r;
          for (let x = 0; x < nx; x++) {
            let s = 0;
            for (let y = 0; y < ny; y++) s += phantom.hu[(z * ny + y) * nx + x];
            hu[r * nx + x] = Math.round(s / ny / coding.slope) * coding.slope;
          }
        }
        return {
          sopUid: sop,
          instanceNumber: instance,
          acquisitionNumber: 1,
          imageType: ["ORIGINAL", "PRIMARY", "LOCALIZER"],
          rows: nz,
          columns: nx,
          pixelSpacing: [dz, dx],
          position: [o[0], o[1] + ((ny - 1) / 2) * dy, o[2] + (nz - 1) * dz],
          orientation: [1, 0, 0, 0, 0, -1],
          sliceLocation: o[1] + ((ny - 1) / 2) * dy,
          pixels: encodeSlice(
            hu,
            null,
            { ...coding, padding: null },
            `${phantom.patientId} localizer`,
          ),
        };
      },
    });
  }

  // Instance numbers per series, then names, then write.
  const main = jobs.filter(
    (j) => j.role === "slice" || j.role === "overlap" || j.role === "localizer",
  );
  const order = instanceOrder(opts.instanceOrder ?? "reversed", rng, main);
  const instance = new Map<Job, number>();
  for (let i = 0; i < order.length; i++) instance.set(order[i], i + 1);
  const second = jobs.filter((j) => j.role === "second-series");
  for (let i = 0; i < second.length; i++) instance.set(second[i], second.length - i);
  const names = fileNames(jobs.length, opts.fileNames ?? "sop-uid", rng);
  const files: WrittenFile[] = [];
  let bytes = 0;
  for (let i = 0; i < jobs.length; i++) {
    const j = jobs[i];
    const sop = uid(100 + i);
    const inst = instance.get(j)!;
    const buf = encodeCtFile(j.head, j.make(sop, inst));
    const name =
      names === "instance"
        ? `${j.role === "second-series" ? "S3_" : ""}IM${String(inst).padStart(5, "0")}.dcm`
        : (names[i] ?? `${sop}.dcm`);
    const file = path.join(dir, name);
    const truncated = plan.truncatedSlice === j.index && j.role === "slice";
    const out = truncated ? buf.subarray(0, Math.floor(buf.byteLength * 0.6)) : buf;
    await writeFile(file, out);
    bytes += out.byteLength;
    files.push({
      path: file,
      role: j.role,
      sliceIndex: j.index >= 0 ? j.index : undefined,
      instanceNumber: inst,
      sopInstanceUid: sop,
      seriesInstanceUid: j.head.seriesUid,
      acquisitionNumber: j.acquisition,
      ...(truncated ? { truncated: true } : {}),
    });
    if (plan.duplicateSlice === j.index && j.role === "slice") {
      const dup = path.join(dir, `copy-of-${name}`);
      await writeFile(dup, buf);
      bytes += buf.byteLength;
      files.push({ ...files[files.length - 1], path: dup, role: "duplicate" });
    }
  }
  if (plan.nonDicom) {
    const file = path.join(dir, "notes.dcm");
    const text = `Scan notes for ${phantom.patientId}: this file is plain text, not DICOM.\n`;
    await writeFile(file, text);
    bytes += text.length;
    files.push({ path: file, role: "non-dicom" });
  }
  const written: WrittenSeries = {
    dir,
    patientId: phantom.patientId,
    studyInstanceUid: header.studyUid,
    seriesInstanceUid: header.seriesUid,
    frameOfReferenceUid: header.frameOfReferenceUid,
    transferSyntaxUid: ts,
    pixelRepresentation: coding.pixelRepresentation,
    rescaleIntercept: coding.intercept,
    rescaleSlope: coding.slope,
    pixelPaddingValue: plan.sagittal ? null : coding.padding,
    variant: opts.variant ?? null,
    broken: plan.broken,
    files,
    bytes,
  };
  if (opts.groundTruth ?? true) {
    const gt = path.join(dir, GROUND_TRUTH_DIR);
    const { files: _f, groundTruthDir: _g, dir: _d, ...facts } = written;
    await writeGroundTruth(phantom, gt, facts as unknown as Record<string, unknown>);
    written.groundTruthDir = gt;
  }
  return written;
}

/** Jobs in InstanceNumber order. Spatial = ascending z (inferior first); extras keep their block. */
function instanceOrder<T extends { role: string }>(
  kind: "spatial" | "reversed" | "shuffled",
  rng: Rng,
  jobs: T[],
): T[] {
  if (kind === "shuffled") return rng.shuffle([...jobs]);
  if (kind === "spatial") return [...jobs];
  return [
    ...jobs.filter((j) => j.role === "slice").reverse(),
    ...jobs.filter((j) => j.role !== "slice"),
  ];
}

function fileNames(
  n: number,
  kind: "sop-uid" | "shuffled" | "instance",
  rng: Rng,
): (string | undefined)[] | "instance" {
  if (kind === "instance") return "instance";
  if (kind === "sop-uid") return new Array(n).fill(undefined);
  // Random 8-hex names in a seeded random order (unique).
  const seen = new Set<string>();
  const salt = rng.u32();
  return rng.shuffle(Array.from({ length: n }, (_, i) => i)).map((i) => {
    let h = hashSeed(salt, i);
    while (seen.has(h.toString(16))) h = hashSeed(h, 1);
    seen.add(h.toString(16));
    return `${h.toString(16).padStart(8, "0")}.dcm`;
  });
}
