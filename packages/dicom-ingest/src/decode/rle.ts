/**
 * DICOM RLE Lossless (PS3.5 Annex G) for 16-bit, one-sample frames: a 64-byte header of 16
 * little-endian uint32 (segment count, then segment offsets), one PackBits segment per byte
 * plane, most significant plane first. Returns the frame as little-endian 16-bit words.
 */
export function decodeRle16(frame: Uint8Array, pixelCount: number): Uint16Array {
  if (frame.length < 64) throw new Error(`RLE frame of ${frame.length} bytes has no header`);
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const segments = dv.getUint32(0, true);
  if (segments !== 2)
    throw new Error(`RLE frame has ${segments} segments, expected 2 (16-bit, 1 sample)`);
  const out = new Uint16Array(pixelCount);
  const bytes = new Uint8Array(pixelCount);
  for (let s = 0; s < 2; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.length;
    if (start < 64 || end > frame.length || start > end)
      throw new Error(`RLE segment ${s} offsets out of range`);
    const n = unpackBits(frame, start, end, bytes);
    if (n < pixelCount)
      throw new Error(`RLE segment ${s} decodes to ${n} bytes, expected ${pixelCount}`);
    const shift = s === 0 ? 8 : 0;
    for (let i = 0; i < pixelCount; i++) out[i] |= bytes[i] << shift;
  }
  return out;
}

/** PackBits: n in 0..127 copies n+1 literal bytes; n in -127..-1 repeats the next byte 1-n times; -128 is a no-op. */
function unpackBits(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  let i = start;
  let o = 0;
  const cap = dst.length;
  while (i < end && o < cap) {
    const n = (src[i++] << 24) >> 24;
    if (n >= 0) {
      const len = Math.min(n + 1, cap - o, end - i);
      dst.set(src.subarray(i, i + len), o);
      i += n + 1;
      o += len;
    } else if (n !== -128) {
      const len = Math.min(1 - n, cap - o);
      dst.fill(src[i++], o, o + len);
      o += len;
    }
  }
  return o;
}
