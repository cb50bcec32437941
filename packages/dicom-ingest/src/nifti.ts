/**
 * NIfTI-1 single-file writer (and reader, for tests and inspection) for lungflow volumes.
 * Depends only on `@lungflow/volume` and node built-ins.
 *
 * Geometry. A lungflow `Volume` is C-order `[z, y, x]` with x fastest, origin and direction
 * in DICOM patient space (LPS). NIfTI stores i fastest, then j, then k, and its world space
 * is RAS. So the bytes go out unchanged with i = x (columns), j = y (rows), k = z (slices),
 * and the affine is
 *
 *   RAS(i, j, k) = F * (origin + i * dx * xAxis + j * dy * yAxis + k * dz * zAxis),
 *   F = diag(-1, -1, 1)   (LPS -> RAS: negate X and Y)
 *
 * written both as sform (`srow_*`, code 1 = scanner) and as qform (quaternion + qfac,
 * code 1), as dcm2niix does. `pixdim[1..3]` = `[dx, dy, dz]`, units mm; `scl_slope` 1,
 * `scl_inter` 0 (the voxels are HU).
 *
 * Compared with Debian's dcm2niix v1.0.20220720 (test/nifti.test.ts, on pydicom-written
 * series: axial, axial with InstanceNumber against position, oblique 25 deg + 10 deg tilt):
 * every voxel has the same world (RAS) position, to 1e-3 voxel, and the same HU, through
 * dcm2niix's sform and its qform alike. Its layout differs: it keeps the stored values
 * (int16) with `scl_slope`/`scl_inter` = RescaleSlope/RescaleIntercept, and flips the row
 * axis (its j runs from the last DICOM row to the first, so its qfac is -1 where ours is
 * +1); its i and k agree with ours (k follows slice position, not InstanceNumber).
 * On phantom series read by `readSeries`, the HU agree everywhere except at
 * PixelPaddingValue voxels, which our HU rule maps to -1000 and dcm2niix keeps raw.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import zlib from "node:zlib";
import {
  isLungflowError,
  LungflowError,
  type Vec3,
  type Volume,
  type VoxelArray,
} from "@lungflow/volume";

const gzip = promisify(zlib.gzip);
const gunzip = promisify(zlib.gunzip);

/** Stable codes of {@link NiftiError}. */
export type NiftiErrorCode =
  | "NOT_NIFTI"
  | "TRUNCATED"
  | "UNSUPPORTED_DATATYPE"
  | "BAD_VOLUME"
  | "WRITE_FAILED";

/** Thrown by the NIfTI reader/writer; `context.file` names the file when there is one. */
export class NiftiError extends LungflowError {
  declare readonly _tag: "NiftiError";
  declare readonly code: NiftiErrorCode;
  constructor(
    code: NiftiErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("NiftiError", code, message, context, options);
  }
}

/** True if `err` is a {@link NiftiError}. */
export function isNiftiError(err: unknown): err is NiftiError {
  return isLungflowError(err, "NiftiError");
}

const HEADER_SIZE = 348;
const VOX_OFFSET = 352; // header + 4-byte extension flag (no extensions)

/** NIfTI datatype codes this module reads; it writes int16 only. */
const DATATYPES: Record<
  number,
  { ctor: new (n: number) => VoxelArray | Int32Array; bytes: number; name: string }
> = {
  2: { ctor: Uint8Array, bytes: 1, name: "uint8" },
  4: { ctor: Int16Array, bytes: 2, name: "int16" },
  8: { ctor: Int32Array, bytes: 4, name: "int32" },
  16: { ctor: Float32Array, bytes: 4, name: "float32" },
  512: { ctor: Uint16Array, bytes: 2, name: "uint16" },
};

/** A 4x4 affine, row-major, mapping `[i, j, k, 1]` to RAS mm. */
export type Affine = number[][];

/** The affine (RAS) that {@link writeNifti} stores for `vol`. */
export function niftiAffine(vol: Pick<Volume, "spacing" | "origin" | "direction">): Affine {
  const [dz, dy, dx] = vol.spacing;
  const [zAxis, yAxis, xAxis] = vol.direction;
  const f = [-1, -1, 1];
  return [0, 1, 2]
    .map((r) =>
      [xAxis[r] * dx * f[r], yAxis[r] * dy * f[r], zAxis[r] * dz * f[r], vol.origin[r] * f[r]].map(
        (v) => (v === 0 ? 0 : v),
      ),
    ) // no -0 in the header
    .concat([[0, 0, 0, 1]]);
}

/**
 * Quaternion (b, c, d), qfac and offsets of an affine, as nifti1_io's
 * `nifti_mat44_to_quatern` computes them for an orthogonal rotation (columns normalised;
 * if the determinant is negative, the third column is negated and qfac = -1).
 */
export function affineToQuatern(a: Affine): {
  b: number;
  c: number;
  d: number;
  qfac: number;
  pixdim: Vec3;
} {
  const cols = [0, 1, 2].map((j) => [a[0][j], a[1][j], a[2][j]]);
  const pixdim = cols.map((c) => Math.hypot(c[0], c[1], c[2])) as Vec3;
  const R = cols.map((c, j) => c.map((v) => v / (pixdim[j] || 1)));
  // r[i][j]: row i, column j
  const r = [0, 1, 2].map((i) => [R[0][i], R[1][i], R[2][i]]);
  const det =
    r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
    r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
    r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  let qfac = 1;
  if (det < 0) {
    qfac = -1;
    for (let i = 0; i < 3; i++) r[i][2] = -r[i][2];
  }
  let b: number;
  let c: number;
  let d: number;
  let aq = r[0][0] + r[1][1] + r[2][2] + 1;
  if (aq > 0.5) {
    aq = 0.5 * Math.sqrt(aq);
    b = (0.25 * (r[2][1] - r[1][2])) / aq;
    c = (0.25 * (r[0][2] - r[2][0])) / aq;
    d = (0.25 * (r[1][0] - r[0][1])) / aq;
  } else {
    const xd = 1 + r[0][0] - (r[1][1] + r[2][2]);
    const yd = 1 + r[1][1] - (r[0][0] + r[2][2]);
    const zd = 1 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r[0][1] + r[1][0])) / b;
      d = (0.25 * (r[0][2] + r[2][0])) / b;
      aq = (0.25 * (r[2][1] - r[1][2])) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r[0][1] + r[1][0])) / c;
      d = (0.25 * (r[1][2] + r[2][1])) / c;
      aq = (0.25 * (r[0][2] - r[2][0])) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r[0][2] + r[2][0])) / d;
      c = (0.25 * (r[1][2] + r[2][1])) / d;
      aq = (0.25 * (r[1][0] - r[0][1])) / d;
    }
    if (aq < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, qfac, pixdim };
}

/** The affine of a qform (nifti1_io's `nifti_quatern_to_mat44`). */
export function quaternToAffine(
  b: number,
  c: number,
  d: number,
  offset: Vec3,
  pixdim: Vec3,
  qfac: number,
): Affine {
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const zs = qfac < 0 ? -1 : 1;
  return [0, 1, 2]
    .map((i) => [R[i][0] * pixdim[0], R[i][1] * pixdim[1], R[i][2] * pixdim[2] * zs, offset[i]])
    .concat([[0, 0, 0, 1]]);
}

/** Options of {@link encodeNifti} and {@link writeNifti}. */
export interface NiftiWriteOptions {
  /** gzip the file. Default: true when the path ends with `.gz` (writeNifti), else false. */
  gzip?: boolean;
  /** Up to 79 ASCII characters stored in `descrip`. Never put patient names here. */
  description?: string;
}

/** The NIfTI-1 bytes (header, empty extension flag, int16 voxels) of an HU volume, uncompressed. */
export function encodeNiftiRaw(
  vol: Volume<Int16Array>,
  opts: { description?: string } = {},
): Buffer {
  const [nz, ny, nx] = vol.shape;
  if (!(vol.data instanceof Int16Array) || vol.data.length !== nz * ny * nx) {
    throw new NiftiError(
      "BAD_VOLUME",
      "writeNifti needs an Int16Array volume whose data matches its shape",
      {
        shape: vol.shape,
        type: vol.data?.constructor?.name,
      },
    );
  }
  if ([nx, ny, nz].some((n) => n > 32767)) {
    throw new NiftiError(
      "BAD_VOLUME",
      `NIfTI-1 dimensions are int16: shape ${vol.shape} too large`,
      {
        shape: vol.shape,
      },
    );
  }
  const buf = Buffer.alloc(VOX_OFFSET + vol.data.byteLength);
  buf.writeInt32LE(HEADER_SIZE, 0);
  buf.write("r", 38, "latin1"); // regular
  const dim = [3, nx, ny, nz, 1, 1, 1, 1];
  for (const [i, v] of dim.entries()) buf.writeInt16LE(v, 40 + 2 * i);
  buf.writeInt16LE(4, 70); // datatype DT_INT16
  buf.writeInt16LE(16, 72); // bitpix
  const A = niftiAffine(vol);
  const q = affineToQuatern(A);
  const pixdim = [q.qfac, vol.spacing[2], vol.spacing[1], vol.spacing[0], 0, 0, 0, 0];
  for (const [i, v] of pixdim.entries()) buf.writeFloatLE(v, 76 + 4 * i);
  buf.writeFloatLE(VOX_OFFSET, 108);
  buf.writeFloatLE(1, 112); // scl_slope: values are HU as stored
  buf.writeFloatLE(0, 116); // scl_inter
  buf.writeUInt8(2, 123); // xyzt_units: NIFTI_UNITS_MM
  let min = 0;
  let max = 0;
  if (vol.data.length) {
    min = 32767;
    max = -32768;
    for (const v of vol.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  buf.writeInt32LE(max, 140); // glmax
  buf.writeInt32LE(min, 144); // glmin
  const descrip = (opts.description ?? "lungflow HU volume")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 79);
  buf.write(descrip, 148, "latin1");
  buf.writeInt16LE(1, 252); // qform_code: NIFTI_XFORM_SCANNER_ANAT
  buf.writeInt16LE(1, 254); // sform_code
  buf.writeFloatLE(q.b, 256);
  buf.writeFloatLE(q.c, 260);
  buf.writeFloatLE(q.d, 264);
  for (let r = 0; r < 3; r++) buf.writeFloatLE(A[r][3], 268 + 4 * r);
  for (let r = 0; r < 3; r++)
    for (let c = 0; c < 4; c++) buf.writeFloatLE(A[r][c], 280 + 16 * r + 4 * c);
  buf.write("n+1\0", 344, "latin1");
  // extension flag (4 zero bytes) at 348 is already zero
  const bytes = new Uint8Array(vol.data.buffer, vol.data.byteOffset, vol.data.byteLength);
  if (isLittleEndian()) buf.set(bytes, VOX_OFFSET);
  else for (let i = 0; i < vol.data.length; i++) buf.writeInt16LE(vol.data[i], VOX_OFFSET + 2 * i);
  return buf;
}

function isLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Writes an HU volume as a NIfTI-1 single file (`.nii`, or gzipped `.nii.gz`), int16, with
 * qform and sform set from the DICOM geometry. Atomic: writes `<file>.tmp-<pid>` and renames.
 */
export async function writeNifti(
  vol: Volume<Int16Array>,
  file: string,
  opts: NiftiWriteOptions = {},
): Promise<void> {
  const raw = encodeNiftiRaw(vol, opts);
  const doGzip = opts.gzip ?? file.endsWith(".gz");
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}`);
  try {
    await fs.writeFile(tmp, doGzip ? await gzip(raw, { level: 6 }) : raw);
    await fs.rename(tmp, file);
  } catch (cause) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new NiftiError(
      "WRITE_FAILED",
      `cannot write ${file}: ${(cause as Error).message}`,
      { file },
      { cause },
    );
  }
}

/** What {@link readNifti} returns. */
export interface NiftiImage {
  /** `[nx, ny, nz]` (NIfTI order: i, j, k). */
  dim: [number, number, number];
  datatype: string;
  /** voxels, i fastest (so C-order `[k, j, i]`), raw (apply `sclSlope`/`sclInter` for values). */
  data: VoxelArray | Int32Array;
  /** `pixdim[1..3]` */
  pixdim: Vec3;
  qfac: number;
  qformCode: number;
  sformCode: number;
  /** affine from the qform (quaternion), or undefined when qform_code is 0 */
  qform?: Affine;
  /** affine from `srow_*`, or undefined when sform_code is 0 */
  sform?: Affine;
  /** sform when set, else qform, else pixdim scaling */
  affine: Affine;
  /** 0 means "not set" per the standard (values are the raw data) */
  sclSlope: number;
  sclInter: number;
  description: string;
}

/** Parses NIfTI-1 bytes (gzipped or not). */
export function decodeNifti(bytes: Buffer, file = "<buffer>"): NiftiImage {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = zlib.gunzipSync(bytes);
  return parse(bytes, file);
}

/** Reads a `.nii` / `.nii.gz` file (single-file NIfTI-1, little or big endian). */
export async function readNifti(file: string): Promise<NiftiImage> {
  let bytes = await fs.readFile(file);
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzip(bytes);
    } catch (cause) {
      throw new NiftiError("TRUNCATED", `${file}: corrupt gzip stream`, { file }, { cause });
    }
  }
  return parse(bytes, file);
}

function parse(buf: Buffer, file: string): NiftiImage {
  if (buf.length < HEADER_SIZE)
    throw new NiftiError("TRUNCATED", `${file}: ${buf.length} bytes, shorter than a NIfTI header`, {
      file,
    });
  let le = true;
  if (buf.readInt32LE(0) !== HEADER_SIZE) {
    if (buf.readInt32BE(0) !== HEADER_SIZE)
      throw new NiftiError("NOT_NIFTI", `${file}: sizeof_hdr is not 348`, { file });
    le = false;
  }
  const magic = buf.toString("latin1", 344, 348);
  if (magic !== "n+1\0")
    throw new NiftiError(
      "NOT_NIFTI",
      `${file}: magic ${JSON.stringify(magic)} is not a single-file NIfTI-1`,
      { file },
    );
  const i16 = (o: number) => (le ? buf.readInt16LE(o) : buf.readInt16BE(o));
  const f32 = (o: number) => (le ? buf.readFloatLE(o) : buf.readFloatBE(o));
  const dims = Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i));
  if (dims[0] < 1 || dims[0] > 7 || dims.slice(4, 1 + dims[0]).some((d) => d > 1)) {
    throw new NiftiError(
      "UNSUPPORTED_DATATYPE",
      `${file}: only 3D volumes are read (dim = ${dims})`,
      { file },
    );
  }
  const dim = [1, 2, 3].map((i) => (i <= dims[0] ? dims[i] : 1)) as [number, number, number];
  const code = i16(70);
  const dt = DATATYPES[code];
  if (!dt)
    throw new NiftiError(
      "UNSUPPORTED_DATATYPE",
      `${file}: NIfTI datatype ${code} is not supported`,
      { file, datatype: code },
    );
  const pix = Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i));
  const qfac = pix[0] < 0 ? -1 : 1;
  const pixdim = [pix[1], pix[2], pix[3]] as Vec3;
  const voxOffset = Math.round(f32(108));
  const n = dim[0] * dim[1] * dim[2];
  if (buf.length < voxOffset + n * dt.bytes) {
    throw new NiftiError(
      "TRUNCATED",
      `${file}: needs ${voxOffset + n * dt.bytes} bytes, has ${buf.length}`,
      { file },
    );
  }
  const data = new dt.ctor(n);
  const view = new DataView(buf.buffer, buf.byteOffset + voxOffset, n * dt.bytes);
  for (let i = 0; i < n; i++) {
    const o = i * dt.bytes;
    data[i] =
      code === 2
        ? view.getUint8(o)
        : code === 4
          ? view.getInt16(o, le)
          : code === 8
            ? view.getInt32(o, le)
            : code === 16
              ? view.getFloat32(o, le)
              : view.getUint16(o, le);
  }
  const qformCode = i16(252);
  const sformCode = i16(254);
  const qform =
    qformCode > 0
      ? quaternToAffine(f32(256), f32(260), f32(264), [f32(268), f32(272), f32(276)], pixdim, qfac)
      : undefined;
  const sform =
    sformCode > 0
      ? [0, 1, 2]
          .map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c)))
          .concat([[0, 0, 0, 1]])
      : undefined;
  const affine = sform ??
    qform ?? [
      [pixdim[0], 0, 0, 0],
      [0, pixdim[1], 0, 0],
      [0, 0, pixdim[2], 0],
      [0, 0, 0, 1],
    ];
  const descrip = buf.toString("latin1", 148, 228);
  return {
    dim,
    datatype: dt.name,
    data,
    pixdim,
    qfac,
    qformCode,
    sformCode,
    qform,
    sform,
    affine,
    sclSlope: f32(112),
    sclInter: f32(116),
    description: descrip.slice(0, descrip.indexOf("\0") < 0 ? 80 : descrip.indexOf("\0")),
  };
}

/**
 * The lungflow volume of a NIfTI image read back (inverse of {@link writeNifti}'s mapping):
 * `[z, y, x] = [k, j, i]`, spacing from the affine's column norms, direction and origin
 * converted back to LPS. Values stay raw (int16 stays int16).
 */
export function niftiToVolume(img: NiftiImage): Volume<VoxelArray> {
  const A = img.affine;
  const f = [-1, -1, 1];
  const col = (j: number) => [0, 1, 2].map((r) => A[r][j] * f[r]);
  const axes = [col(2), col(1), col(0)];
  const spacing = axes.map((c) => Math.hypot(c[0], c[1], c[2])) as Vec3;
  const direction = axes.map((c, a) => c.map((v) => v / (spacing[a] || 1))) as [Vec3, Vec3, Vec3];
  const origin = [0, 1, 2].map((r) => A[r][3] * f[r]) as Vec3;
  const data = img.data instanceof Int32Array ? Float32Array.from(img.data) : img.data;
  return { data, shape: [img.dim[2], img.dim[1], img.dim[0]], spacing, origin, direction };
}
