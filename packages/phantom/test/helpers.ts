/** Test helpers: read a written series back with dicom-parser (an independent reader). */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import dicomParser, { type DataSet } from "dicom-parser";

export interface ParsedFile {
  path: string;
  bytes: Uint8Array;
  ds?: DataSet;
  error?: string;
}

/** Parses every regular file of `dir` (not recursive). */
export function readDir(dir: string): ParsedFile[] {
  return readdirSync(dir)
    .sort()
    .map((n) => path.join(dir, n))
    .filter((p) => statSync(p).isFile())
    .map((p) => {
      const bytes = new Uint8Array(readFileSync(p));
      try {
        const ds = dicomParser.parseDicom(bytes);
        return { path: p, bytes, ds };
      } catch (e) {
        // dicom-parser throws strings, Errors, or { exception, dataSet } objects.
        const x = e as { message?: string; exception?: string };
        return { path: p, bytes, error: String(x?.message ?? x?.exception ?? e) };
      }
    });
}

export const T = {
  transferSyntax: "x00020010",
  imageType: "x00080008",
  sopClass: "x00080016",
  sopInstance: "x00080018",
  modality: "x00080060",
  patientId: "x00100020",
  sliceThickness: "x00180050",
  kvp: "x00180060",
  gantryTilt: "x00181120",
  studyUid: "x0020000d",
  seriesUid: "x0020000e",
  seriesNumber: "x00200011",
  acquisitionNumber: "x00200012",
  instanceNumber: "x00200013",
  position: "x00200032",
  orientation: "x00200037",
  frameOfReference: "x00200052",
  samplesPerPixel: "x00280002",
  photometric: "x00280004",
  rows: "x00280010",
  columns: "x00280011",
  pixelSpacing: "x00280030",
  bitsAllocated: "x00280100",
  bitsStored: "x00280101",
  highBit: "x00280102",
  pixelRepresentation: "x00280103",
  padding: "x00280120",
  intercept: "x00281052",
  slope: "x00281053",
  pixelData: "x7fe00010",
} as const;

export function nums(ds: DataSet, tag: string): number[] {
  const n = ds.numStringValues(tag) ?? 0;
  return Array.from({ length: n }, (_, i) => Number(ds.string(tag, i)));
}

/** Raw stored pixels of a parsed slice, signed or unsigned per PixelRepresentation. */
export function rawPixels(f: ParsedFile): Int16Array | Uint16Array {
  const ds = f.ds!;
  const el = ds.elements[T.pixelData];
  const signed = ds.uint16(T.pixelRepresentation) === 1;
  const copy = f.bytes.slice(el.dataOffset, el.dataOffset + el.length);
  return signed ? new Int16Array(copy.buffer) : new Uint16Array(copy.buffer);
}

/** PixelPaddingValue read with the VR's sign (SS when PixelRepresentation is 1). */
export function paddingValue(ds: DataSet): number | undefined {
  if (!ds.elements[T.padding]) return undefined;
  return ds.uint16(T.pixelRepresentation) === 1 ? ds.int16(T.padding) : ds.uint16(T.padding);
}

/** Path of a reference tool, or undefined when absent. */
export function tool(name: string): string | undefined {
  const r = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Whether Debian's python3 with pydicom and numpy is available. */
export function hasPydicom(): boolean {
  const r = spawnSync("/usr/bin/python3", ["-c", "import pydicom, numpy"], { encoding: "utf8" });
  return r.status === 0;
}
