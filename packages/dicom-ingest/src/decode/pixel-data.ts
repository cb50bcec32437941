import dicomParser from "dicom-parser";
import { DicomError } from "../errors.js";
import type { SliceHeader } from "../header.js";
import type { ParsedDicom } from "../parse.js";
import { TAG, TS } from "../tags.js";
import { decodeJpeg2000, decodeJpegLossless, decodeJpegLs } from "./codecs.js";
import { decodeRle16 } from "./rle.js";

/**
 * Returns the stored 16-bit words of a single-frame image, in the machine's (little-endian)
 * order, exactly as encoded: no masking, no sign handling (see `hu.ts` for that).
 * Native little-endian data is a zero-copy view on the file's buffer when its offset is even.
 * Throws DicomError: UNSUPPORTED_TRANSFER_SYNTAX, DECODE_FAILED, TRUNCATED.
 */
export async function decodePixelData(
  parsed: ParsedDicom,
  header: SliceHeader,
): Promise<Uint16Array> {
  const { file } = parsed;
  const ts = header.transferSyntaxUid ?? TS.implicitLittle;
  const pixelCount = (header.rows ?? 0) * (header.columns ?? 0);
  const ds = parsed.dataSet;
  const el = ds.elements[TAG.pixelData];
  if (!el || !header.pixelData) {
    throw new DicomError("NO_PIXEL_DATA", `${file}: no Pixel Data element`, {
      file,
      reason: "no pixel data",
    });
  }
  const fail = (reason: string, cause?: unknown) =>
    new DicomError(
      "DECODE_FAILED",
      `${file}: cannot decode pixel data (${reason})`,
      { file, reason, transferSyntaxUid: ts },
      { cause },
    );

  if (
    ts === TS.implicitLittle ||
    ts === TS.explicitLittle ||
    ts === TS.deflated ||
    ts === TS.explicitBig
  ) {
    if (header.pixelData.encapsulated)
      throw fail("encapsulated pixel data in a native transfer syntax");
    const bytes = pixelCount * 2;
    const buf = ds.byteArray;
    if (el.dataOffset + bytes > buf.length) {
      throw new DicomError("TRUNCATED", `${file}: pixel data ends past the end of the file`, {
        file,
        reason: `pixel data needs ${bytes} bytes at offset ${el.dataOffset}, file has ${buf.length}`,
      });
    }
    if (el.length < bytes)
      throw fail(
        `pixel data has ${el.length} bytes, ${header.rows}x${header.columns}x2 = ${bytes} expected`,
      );
    const abs = buf.byteOffset + el.dataOffset;
    let words: Uint16Array;
    if (abs % 2 === 0) words = new Uint16Array(buf.buffer, abs, pixelCount);
    else
      words = new Uint16Array(
        buf.slice(el.dataOffset, el.dataOffset + bytes).buffer,
        0,
        pixelCount,
      );
    if (ts === TS.explicitBig) {
      const copy = new Uint16Array(pixelCount);
      for (let i = 0; i < pixelCount; i++) {
        const w = words[i];
        copy[i] = ((w & 0xff) << 8) | (w >>> 8);
      }
      words = copy;
    }
    return words;
  }

  if (!header.pixelData.encapsulated || !el.fragments || el.fragments.length === 0) {
    throw fail("compressed transfer syntax without encapsulated fragments");
  }
  if ((header.numberOfFrames ?? 1) > 1) throw fail("multi-frame encapsulated data");
  let frame: Uint8Array;
  try {
    frame = dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, el.fragments.length);
  } catch (e) {
    throw fail(`fragments: ${String(e)}`, e);
  }
  try {
    switch (ts) {
      case TS.rle:
        return decodeRle16(frame, pixelCount);
      case TS.jpegLosslessP14:
      case TS.jpegLosslessSV1:
        return await decodeJpegLossless(frame, pixelCount);
      case TS.jpegLs:
      case TS.jpegLsNear:
        return checkSize(await decodeJpegLs(frame), header);
      case TS.jpeg2000Lossless:
      case TS.jpeg2000:
        return checkSize(await decodeJpeg2000(frame), header);
    }
  } catch (e) {
    if (e instanceof DicomError) throw e;
    // The emscripten codecs throw bare numbers (a pointer to a C++ exception).
    const reason =
      e instanceof Error
        ? e.message
        : typeof e === "number"
          ? `codec error (wasm exception ${e}): corrupt stream`
          : String(e);
    throw fail(reason, e);
  }
  throw new DicomError(
    "UNSUPPORTED_TRANSFER_SYNTAX",
    `${file}: transfer syntax ${ts} is not supported`,
    {
      file,
      reason: `transfer syntax ${ts}`,
    },
  );
}

function checkSize(
  f: { data: Uint16Array; width: number; height: number },
  h: SliceHeader,
): Uint16Array {
  if (f.width !== h.columns || f.height !== h.rows) {
    throw new Error(`decoded ${f.width}x${f.height}, header says ${h.columns}x${h.rows}`);
  }
  return f.data;
}
