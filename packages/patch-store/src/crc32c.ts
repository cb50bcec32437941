import * as zarr from "zarrita";
import { StoreError } from "./errors.js";

/** CRC-32C (Castagnoli) lookup tables for slicing-by-8. */
const TABLES = (() => {
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n];
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff] ^ (c >>> 8);
      t[k * 256 + n] = c >>> 0;
    }
  }
  return t;
})();

/** CRC-32C of `bytes` (the checksum the Zarr v3 `crc32c` codec appends). */
export function crc32c(bytes: Uint8Array): number {
  const t = TABLES;
  let crc = 0xffffffff;
  let i = 0;
  const n = bytes.length;
  for (; i + 8 <= n; i += 8) {
    const a = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) ^ crc;
    crc =
      t[7 * 256 + (a & 0xff)] ^
      t[6 * 256 + ((a >>> 8) & 0xff)] ^
      t[5 * 256 + ((a >>> 16) & 0xff)] ^
      t[4 * 256 + (a >>> 24)] ^
      t[3 * 256 + bytes[i + 4]] ^
      t[2 * 256 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < n; i++) crc = t[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * The Zarr v3 `crc32c` codec (4-byte little-endian CRC-32C appended to the chunk).
 * zarrita 0.7.5 ships one that cannot encode and does not check the checksum on decode;
 * this one does both, so a flipped bit in a chunk file is an error, not silent garbage.
 */
export class Crc32cCodec {
  readonly kind = "bytes_to_bytes";
  static fromConfig(): Crc32cCodec {
    return new Crc32cCodec();
  }
  encode(bytes: Uint8Array): Uint8Array {
    const out = new Uint8Array(bytes.length + 4);
    out.set(bytes);
    new DataView(out.buffer).setUint32(bytes.length, crc32c(bytes), true);
    return out;
  }
  decode(bytes: Uint8Array): Uint8Array {
    if (bytes.length < 4) {
      throw new StoreError(
        "CHUNK_CHECKSUM",
        `chunk of ${bytes.length} bytes is too short to hold a crc32c`,
        { codec: "crc32c", reason: "too-short", bytes: bytes.length },
      );
    }
    const body = bytes.subarray(0, bytes.length - 4);
    const stored = new DataView(bytes.buffer, bytes.byteOffset + body.length, 4).getUint32(0, true);
    const actual = crc32c(body);
    if (stored !== actual) {
      const hex = (n: number) => n.toString(16).padStart(8, "0");
      throw new StoreError(
        "CHUNK_CHECKSUM",
        `crc32c mismatch: stored ${hex(stored)}, computed ${hex(actual)}`,
        { codec: "crc32c", reason: "mismatch", bytes: bytes.length, stored, computed: actual },
      );
    }
    return body;
  }
  computeEncodedSize(decodedSize: number): number {
    return decodedSize + 4;
  }
}

let registered = false;
/** Replaces zarrita's decode-only `crc32c` codec with {@link Crc32cCodec} (idempotent). */
export function registerCrc32c(): void {
  if (registered) return;
  // biome-ignore lint/suspicious/noExplicitAny: zarrita's registry entry type is internal
  zarr.registry.set("crc32c", (async () => Crc32cCodec) as any);
  registered = true;
}
