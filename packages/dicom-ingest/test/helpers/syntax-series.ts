/**
 * Small CT series in every transfer syntax dicom-ingest reads, written at test time (the
 * compressed frames by the encoders of encode-frames.ts and the PackBits encoder here).
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { encodeJpeg2000, encodeJpegLossless, encodeJpegLs } from "./encode-frames.ts";
import { rng } from "./series.ts";
import { encodeHu, type TestSyntax, writeCtSlice } from "./write-dicom.ts";

type FrameEncoder = (words: Uint16Array, w: number, h: number) => Promise<Uint8Array> | Uint8Array;

/** Name -> transfer syntax UID, data set syntax, and the frame encoder (none: native). */
export const SYNTAXES: Record<
  string,
  { uid: string; syntax: TestSyntax; encode?: FrameEncoder; deflate?: boolean }
> = {
  implicit: { uid: "1.2.840.10008.1.2", syntax: "implicit" },
  explicit: { uid: "1.2.840.10008.1.2.1", syntax: "explicit" },
  big: { uid: "1.2.840.10008.1.2.2", syntax: "big" },
  deflated: { uid: "1.2.840.10008.1.2.1.99", syntax: "explicit", deflate: true },
  rle: { uid: "1.2.840.10008.1.2.5", syntax: "explicit", encode: encodeRle16 },
  "jpeg-p14": { uid: "1.2.840.10008.1.2.4.57", syntax: "explicit", encode: encodeJpegLossless },
  "jpeg-sv1": { uid: "1.2.840.10008.1.2.4.70", syntax: "explicit", encode: encodeJpegLossless },
  jpegls: { uid: "1.2.840.10008.1.2.4.80", syntax: "explicit", encode: encodeJpegLs },
  "jpegls-near": { uid: "1.2.840.10008.1.2.4.81", syntax: "explicit", encode: encodeJpegLs },
  j2k: { uid: "1.2.840.10008.1.2.4.90", syntax: "explicit", encode: encodeJpeg2000 },
  "j2k-lossy": { uid: "1.2.840.10008.1.2.4.91", syntax: "explicit", encode: encodeJpeg2000 },
};

/**
 * Writes an int16 axial series (padding -2000 on a few voxels) in the named transfer syntax;
 * returns its HU ([z,y,x]) and files (in z order).
 */
export async function writeSyntaxSeries(
  dir: string,
  name: string,
  o: { nz?: number; ny?: number; nx?: number; seed?: number } = {},
): Promise<{ hu: Int16Array; files: string[] }> {
  const s = SYNTAXES[name];
  const nz = o.nz ?? 3;
  const ny = o.ny ?? 8;
  const nx = o.nx ?? 8;
  const r = rng(o.seed ?? 7);
  const plane = ny * nx;
  const hu = new Int16Array(nz * plane).map(() => Math.floor(r() * 3000) - 1024);
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (let z = 0; z < nz; z++) {
    const e = encodeHu(hu.subarray(z * plane, (z + 1) * plane), "int16");
    const words = Uint16Array.from(e.stored, (v) => v & 0xffff);
    const file = path.join(dir, `img${z}.dcm`);
    writeCtSlice(file, {
      syntax: s.syntax,
      transferSyntaxUid: s.uid,
      rows: ny,
      columns: nx,
      stored: e.stored,
      signed: true,
      ipp: [-10, -10, 50 + z * 1.25],
      pixelSpacing: [0.7, 0.7],
      sopUid: `1.2.3.4.9.${z}`,
      instanceNumber: z + 1,
      frame: s.encode ? await s.encode(words, nx, ny) : undefined,
      deflate: s.deflate,
    });
    files.push(file);
  }
  return { hu, files };
}

/** DICOM RLE of 16-bit words: two segments (high bytes, then low bytes), literal runs only. */
export function encodeRle16(words: Uint16Array): Uint8Array {
  const segment = (bytes: number[]) => {
    const out: number[] = [];
    for (let i = 0; i < bytes.length; i += 128) {
      const run = bytes.slice(i, i + 128);
      out.push(run.length - 1, ...run);
    }
    if (out.length % 2) out.push(0x80); // no-op byte keeps segments even
    return out;
  };
  const hi = segment(Array.from(words, (w) => w >> 8));
  const lo = segment(Array.from(words, (w) => w & 0xff));
  const header = new Uint8Array(64);
  const dv = new DataView(header.buffer);
  dv.setUint32(0, 2, true);
  dv.setUint32(4, 64, true);
  dv.setUint32(8, 64 + hi.length, true);
  return Uint8Array.from([...header, ...hi, ...lo]);
}
