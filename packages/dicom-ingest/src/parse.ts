import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { inflateRawSync } from "node:zlib";
import dicomParser, { type DataSet } from "dicom-parser";
import { DicomError } from "./errors.js";
import { TAG, TS } from "./tags.js";

/** Default number of bytes read to parse a header (retried with the whole file if short). */
export const DEFAULT_HEADER_BYTES = 32 * 1024;

/** A parsed file: the data set (dicom-parser), and how much of the file it covers. */
export interface ParsedDicom {
  file: string;
  dataSet: DataSet;
  /** The file's size on disk in bytes. */
  fileSize: number;
  /** True when `dataSet.byteArray` holds the whole (inflated) file. */
  complete: boolean;
}

function hasPreamble(buf: Uint8Array): boolean {
  return (
    buf.length >= 132 &&
    buf[128] === 0x44 &&
    buf[129] === 0x49 &&
    buf[130] === 0x43 &&
    buf[131] === 0x4d
  );
}

function messageOf(e: unknown): string {
  if (typeof e === "string") return e;
  if (e && typeof e === "object" && "exception" in e)
    return messageOf((e as { exception: unknown }).exception);
  if (e instanceof Error) return e.message;
  return String(e);
}

function isOverrun(msg: string): boolean {
  return /past end|overrun|overread|beyond|end of buffer|invalid value for parameter 'maxP|cannot be greater than or equal to 'byteArray' length/i.test(
    msg,
  );
}

/**
 * True when the buffer ends inside (or right at the end of) the file meta group, whose
 * length the group length element (0002,0000) at byte 132 declares: the file was cut there
 * (dicom-parser reports it as a missing meta attribute, which reads like a foreign file).
 */
function endsInMetaGroup(buf: Uint8Array): boolean {
  if (buf.length < 144) return buf.length >= 132;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const isGroupLength =
    dv.getUint16(132, true) === 0x0002 && dv.getUint16(134, true) === 0x0000 && buf[136] === 0x55; // "UL"
  return isGroupLength && buf.length <= 144 + dv.getUint32(140, true);
}

class InflateError extends Error {}

function inflater(byteArray: Uint8Array, position: number): Uint8Array {
  let inflated: Buffer;
  try {
    inflated = inflateRawSync(byteArray.subarray(position));
  } catch (e) {
    throw new InflateError(e instanceof Error ? e.message : String(e));
  }
  const out = Buffer.allocUnsafe(position + inflated.length);
  out.set(byteArray.subarray(0, position), 0);
  out.set(inflated, position);
  return out;
}

/**
 * Parses a DICOM Part 10 buffer. With `untilPixelData` parsing stops at the Pixel Data
 * element (its offset and length are known, its bytes not read). Throws DicomError:
 * NOT_DICOM (no "DICM" preamble, or an unparseable header), TRUNCATED (an element runs past
 * the end of a `complete` buffer).
 */
export function parseBuffer(
  buf: Uint8Array,
  file: string,
  complete: boolean,
  untilPixelData: boolean,
): DataSet {
  if (!hasPreamble(buf)) {
    throw new DicomError(
      "NOT_DICOM",
      `${file}: not a DICOM Part 10 file (no "DICM" marker at byte 128)`,
      {
        file,
        reason: "no DICM preamble",
      },
    );
  }
  try {
    const opts = {
      untilTag: untilPixelData ? TAG.pixelData : undefined,
      inflater,
    } as unknown as dicomParser.ParseDicomOptions;
    const ds = dicomParser.parseDicom(buf, opts);
    if (complete) checkBounds(ds, file);
    return ds;
  } catch (e) {
    if (e instanceof DicomError) throw e;
    const msg = messageOf(e);
    if (e instanceof InflateError) {
      const code = /unexpected end/i.test(msg) ? "TRUNCATED" : "DECODE_FAILED";
      throw new DicomError(code, `${file}: deflated data set cannot be inflated (${msg})`, {
        file,
        reason: `inflate: ${msg}`,
      });
    }
    if (complete && endsInMetaGroup(buf)) {
      const reason = `the file ends inside its file meta group (${buf.length} bytes)`;
      throw new DicomError("TRUNCATED", `${file}: ${reason}`, { file, reason });
    }
    if (!complete || isOverrun(msg)) {
      throw new DicomError("TRUNCATED", `${file}: the file ends inside a DICOM element (${msg})`, {
        file,
        reason: msg,
      });
    }
    throw new DicomError(
      "NOT_DICOM",
      `${file}: unreadable DICOM header (${msg})`,
      { file, reason: msg },
      { cause: e },
    );
  }
}

/**
 * Implicit-VR parsing does not notice an element running past the end of the buffer (it
 * seeks beyond it and stops): check every element but Pixel Data (whose truncation the
 * header reports, so the file still joins its series and the error names it).
 */
function checkBounds(ds: DataSet, file: string): void {
  const end = ds.byteArray.length;
  for (const el of Object.values(ds.elements)) {
    if (el.tag === TAG.pixelData || el.hadUndefinedLength) continue;
    if (el.dataOffset + el.length > end) {
      const reason = `element ${el.tag} of ${el.length} bytes at offset ${el.dataOffset} runs past the end (${end} bytes)`;
      throw new DicomError(
        "TRUNCATED",
        `${file}: the file ends inside a DICOM element (${reason})`,
        { file, reason },
      );
    }
  }
}

/**
 * Reads the first `bytes` bytes of a file with synchronous calls (one open, one fstat, one
 * read, one close): a header prefix is small, and four round trips through libuv's thread
 * pool per file cost more than the reads themselves (about 3x on a local disk).
 */
function readPrefix(file: string, bytes: number): { buf: Buffer; size: number } {
  const fd = openSync(file, "r");
  try {
    const { size } = fstatSync(fd);
    const n = Math.min(size, bytes);
    const buf = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const bytesRead = readSync(fd, buf, off, n - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return { buf: buf.subarray(0, off), size };
  } finally {
    closeSync(fd);
  }
}

function ioError(file: string, e: unknown): DicomError {
  const msg = messageOf(e);
  return new DicomError(
    "READ_FAILED",
    `${file}: cannot read (${msg})`,
    { file, reason: msg },
    { cause: e },
  );
}

/**
 * Reads and parses the header of a file (everything before Pixel Data) from a bounded prefix
 * of `headerBytes`; the whole file is read only when the header is longer than that or the
 * file is deflated. Throws DicomError (NOT_DICOM, TRUNCATED, READ_FAILED).
 */
export async function readHeaderDataSet(
  file: string,
  headerBytes = DEFAULT_HEADER_BYTES,
): Promise<ParsedDicom> {
  let prefix: { buf: Buffer; size: number };
  try {
    prefix = readPrefix(file, headerBytes);
  } catch (e) {
    throw ioError(file, e);
  }
  const complete = prefix.buf.length >= prefix.size;
  if (prefix.size === 0) {
    // An empty file is a failed copy far more often than a foreign file, and a slice
    // missing from its series if it lies among one.
    const reason = "empty file (0 bytes)";
    throw new DicomError("TRUNCATED", `${file}: ${reason}`, { file, reason });
  }
  if (!hasPreamble(prefix.buf)) parseBuffer(prefix.buf, file, complete, true);
  if (!complete) {
    try {
      const ds = dicomParser.parseDicom(prefix.buf, { untilTag: TAG.pixelData });
      const ts = ds.string(TAG.transferSyntaxUid);
      // A deflated data set cannot be inflated from a prefix; the header must end inside it.
      if (ds.elements[TAG.pixelData] && ts !== TS.deflated) {
        return { file, dataSet: ds, fileSize: prefix.size, complete: false };
      }
    } catch {
      // header longer than the prefix (or deflated): read the whole file below
    }
  }
  const whole = complete ? prefix.buf : await readWhole(file);
  const dataSet = parseBuffer(whole, file, true, true);
  return { file, dataSet, fileSize: whole.length, complete: true };
}

/** Reads a whole file (READ_FAILED on I/O errors). */
export async function readWhole(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw ioError(file, e);
  }
}

/** Reads and fully parses a file, pixel data included (fragments of encapsulated data too). */
export async function readDataSet(file: string): Promise<ParsedDicom> {
  const buf = await readWhole(file);
  return {
    file,
    dataSet: parseBuffer(buf, file, true, false),
    fileSize: buf.length,
    complete: true,
  };
}
