import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  type CtSliceOptions,
  type Encoding,
  encodeHu,
  type TestSyntax,
  writeCtSlice,
} from "./write-dicom.ts";

/** A seeded xorshift generator (tests are deterministic). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export function tempDir(prefix = "dicom-ingest-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface TestSeriesOptions {
  nz?: number;
  ny?: number;
  nx?: number;
  dz?: number;
  pixelSpacing?: [number, number];
  origin?: [number, number, number];
  encoding?: Encoding;
  syntax?: TestSyntax;
  seed?: number;
  /** Per-slice overrides (index in spatial order). */
  slice?: (z: number) => Partial<CtSliceOptions>;
  seriesUid?: string;
  patientId?: string;
  /** File name of slice z (default: shuffled names, instance numbers reversed). */
  name?: (z: number) => string;
  /** HU values (default random -1024..3000, even for slope 2). */
  hu?: Int16Array;
}

/** Writes an axial series; returns the HU it encodes ([z,y,x], z ascending along +Z). */
export function writeTestSeries(
  dir: string,
  o: TestSeriesOptions = {},
): { hu: Int16Array; files: string[]; shape: [number, number, number] } {
  const nz = o.nz ?? 6;
  const ny = o.ny ?? 12;
  const nx = o.nx ?? 10;
  const dz = o.dz ?? 1.25;
  const enc = o.encoding ?? "int16";
  const origin = o.origin ?? [-30.5, -20.25, 100];
  const r = rng(o.seed ?? 1);
  const plane = ny * nx;
  const hu = o.hu ?? new Int16Array(nz * plane);
  if (!o.hu) {
    for (let i = 0; i < hu.length; i++) {
      let v = Math.floor(r() * 4025) - 1024;
      if (enc === "slope2") v -= v % 2;
      hu[i] = v;
    }
  }
  mkdirSync(dir, { recursive: true });
  // File names unrelated to position; InstanceNumber reversed.
  const perm = Array.from({ length: nz }, (_, i) => i).sort(
    (a, b) => ((a * 7919) % 101) - ((b * 7919) % 101),
  );
  const files: string[] = [];
  for (let z = 0; z < nz; z++) {
    const e = encodeHu(hu.subarray(z * plane, (z + 1) * plane), enc);
    const file = path.join(dir, o.name ? o.name(z) : `img${String(perm[z]).padStart(4, "0")}.dcm`);
    writeCtSlice(file, {
      syntax: o.syntax,
      rows: ny,
      columns: nx,
      stored: e.stored,
      signed: e.signed,
      slope: e.slope,
      intercept: e.intercept,
      ipp: [origin[0], origin[1], origin[2] + z * dz],
      pixelSpacing: o.pixelSpacing ?? [0.7, 0.65],
      patientId: o.patientId,
      seriesUid: o.seriesUid,
      sopUid: `1.2.3.4.1.1.${o.seed ?? 1}.${z}`,
      instanceNumber: nz - z,
      ...o.slice?.(z),
    });
    files.push(file);
  }
  return { hu, files, shape: [nz, ny, nx] };
}
