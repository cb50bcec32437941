import { closeSync, openSync, readSync } from "node:fs";
import { decodePixelData } from "./decode/pixel-data.js";
import { DicomError } from "./errors.js";
import type { SliceHeader } from "./header.js";
import { readDataSet } from "./parse.js";
import { TS } from "./tags.js";

/** True when `readSliceWords` reads this slice synchronously (native, uncompressed pixels). */
export function isNativeSlice(h: SliceHeader): boolean {
  const ts = h.transferSyntaxUid ?? TS.implicitLittle;
  const native = ts === TS.implicitLittle || ts === TS.explicitLittle || ts === TS.explicitBig;
  return native && !!h.pixelData && !h.pixelData.encapsulated;
}

/**
 * Reads the stored 16-bit words of one slice whose header is already parsed.
 *
 * Native files (the common case) take a fast path: only the Pixel Data bytes are read, at
 * the offset the header parse found, with synchronous calls (one open, read, close: cheaper
 * than thread-pool round trips, and the bytes are still in cache for the HU loop that
 * follows), straight into `target` when given (the output slice's
 * own memory: the HU conversion then runs in place, and reading a series copies each byte
 * once and allocates nothing per file). Other transfer syntaxes read and parse the whole file
 * and decode it into a new array.
 */
export async function readSliceWords(h: SliceHeader, target?: Uint8Array): Promise<Uint16Array> {
  const ts = h.transferSyntaxUid ?? TS.implicitLittle;
  const px = h.pixelData;
  const native = ts === TS.implicitLittle || ts === TS.explicitLittle || ts === TS.explicitBig;
  if (!native || !px || px.encapsulated) return decodePixelData(await readDataSet(h.file), h);
  const bytes = (h.rows ?? 0) * (h.columns ?? 0) * 2;
  if (px.length < bytes) return decodePixelData(await readDataSet(h.file), h); // reports the error
  return readNativeWords(h, target);
}

/**
 * The native fast path of {@link readSliceWords}, synchronous: only the Pixel Data bytes,
 * at the offset the header parse found, into `target` when it is large enough. The caller
 * has checked {@link isNativeSlice} and that the element holds rows x columns words.
 */
export function readNativeWords(h: SliceHeader, target?: Uint8Array): Uint16Array {
  const px = h.pixelData!;
  const n = (h.rows ?? 0) * (h.columns ?? 0);
  const bytes = n * 2;
  const buf = target && target.length >= bytes ? target : Buffer.allocUnsafe(bytes);
  let got = 0;
  let fd: number | undefined;
  try {
    fd = openSync(h.file, "r");
    while (got < bytes) {
      const bytesRead = readSync(fd, buf, got, bytes - got, px.offset + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new DicomError(
      "READ_FAILED",
      `${h.file}: cannot read (${reason})`,
      { file: h.file, reason },
      { cause: e },
    );
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  if (got < bytes) {
    throw new DicomError("TRUNCATED", `${h.file}: the file ends inside its pixel data`, {
      file: h.file,
      reason: `pixel data needs ${bytes} bytes at offset ${px.offset}, only ${got} there`,
    });
  }
  return wordsOf(buf, 0, n, h.transferSyntaxUid === TS.explicitBig);
}

/**
 * `n` 16-bit words at byte `offset` of `buf`, in machine order: a view when aligned, else a
 * copy; big-endian words are swapped in place.
 */
export function wordsOf(
  buf: Uint8Array,
  offset: number,
  n: number,
  bigEndian: boolean,
): Uint16Array {
  const abs = buf.byteOffset + offset;
  const words =
    abs % 2 === 0
      ? new Uint16Array(buf.buffer, abs, n)
      : new Uint16Array(Uint8Array.prototype.slice.call(buf, offset, offset + n * 2).buffer, 0, n);
  if (bigEndian) {
    for (let i = 0; i < n; i++) {
      const w = words[i];
      words[i] = ((w & 0xff) << 8) | (w >>> 8);
    }
  }
  return words;
}
