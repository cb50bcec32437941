import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { type SlabKernel, slabRange } from "@lungflow/volume";
import { DicomError } from "./errors.js";
import type { SliceHeader } from "./header.js";
import { huParams, storedToHu } from "./hu.js";
import { isNativeSlice, readNativeWords, wordsOf } from "./slice-reader.js";
import { TS } from "./tags.js";

/** What {@link readNativeSlicesKernel} reads, and where it writes. */
export interface NativeSlicesArgs {
  /** One header per output slice, in z order; every one native ({@link isNativeSlab}). */
  headers: SliceHeader[];
  /** The HU volume, `headers.length` slices of `sliceSize` voxels. */
  out: Int16Array;
  sliceSize: number;
  /**
   * When set, each file is read whole (one read) and its SHA-256 goes to
   * `digests[32 z .. 32 z + 32)`, its size to `sizes[z]`: the bytes read for the pixels
   * are the bytes hashed.
   */
  digests?: Uint8Array;
  sizes?: Float64Array;
  parts: number;
}

/** True when every slice can go through {@link readNativeSlicesKernel}. */
export function isNativeSlab(headers: readonly SliceHeader[]): boolean {
  return headers.every(
    (h) => isNativeSlice(h) && (h.pixelData?.length ?? 0) >= (h.rows ?? 0) * (h.columns ?? 0) * 2,
  );
}

/**
 * Slices of a native series, read and converted to HU in place, part `p` of `parts`
 * (contiguous z ranges): the series read of `readSeries` when a runner splits it, or when
 * the files' digests are wanted. Synchronous I/O (one open, read, close per file).
 * Throws DicomError READ_FAILED / TRUNCATED naming the file.
 */
export const readNativeSlicesKernel: SlabKernel<NativeSlicesArgs> = {
  name: "dicom-ingest/read-native-slices",
  run(a, part) {
    const [z0, z1] = slabRange(a.headers.length, a.parts, part);
    const bytesOut = new Uint8Array(a.out.buffer, a.out.byteOffset, a.out.byteLength);
    for (let z = z0; z < z1; z++) {
      const h = a.headers[z];
      const off = z * a.sliceSize;
      let words: Uint16Array;
      if (a.digests && a.sizes) {
        const whole = readWholeSync(h.file);
        a.digests.set(createHash("sha256").update(whole).digest(), z * 32);
        a.sizes[z] = whole.length;
        const px = h.pixelData!;
        const n = (h.rows ?? 0) * (h.columns ?? 0);
        if (px.offset + n * 2 > whole.length) {
          throw new DicomError("TRUNCATED", `${h.file}: the file ends inside its pixel data`, {
            file: h.file,
            reason: `pixel data needs ${n * 2} bytes at offset ${px.offset}, only ${Math.max(0, whole.length - px.offset)} there`,
          });
        }
        words = wordsOf(whole, px.offset, n, h.transferSyntaxUid === TS.explicitBig);
      } else {
        words = readNativeWords(h, bytesOut.subarray(off * 2, (off + a.sliceSize) * 2));
      }
      storedToHu(words, huParams(h), a.out, off);
    }
  },
};

/** This thread's read buffer, grown as needed: whole files are read into it, one at a time. */
let scratch = new Uint8Array(0);

/** The whole file, in one buffer (valid until the next call); READ_FAILED on I/O errors. */
function readWholeSync(file: string): Uint8Array {
  let fd: number | undefined;
  try {
    fd = openSync(file, "r");
    const size = fstatSync(fd).size;
    // One byte more than the size: a file that grew since is seen to (read to its end).
    if (scratch.length < size + 1) scratch = new Uint8Array(Math.max(size + 1, scratch.length * 2));
    let got = 0;
    for (;;) {
      if (got === scratch.length) {
        const bigger = new Uint8Array(scratch.length * 2);
        bigger.set(scratch);
        scratch = bigger;
      }
      const n = readSync(fd, scratch, got, scratch.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return scratch.subarray(0, got);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DicomError(
      "READ_FAILED",
      `${file}: cannot read (${reason})`,
      { file, reason },
      { cause: e },
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
