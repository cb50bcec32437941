/**
 * Mutates `original` with a seeded draw: cut it, overwrite 1..4 bytes anywhere after the
 * preamble, overwrite a run of bytes, or write digits / signs / backslashes / letters into
 * it (which turns DS and IS values into odd numbers and non-numbers).
 */
export function mutate(original: Buffer, r: () => number): Buffer {
  const buf = Buffer.from(original);
  const at = () => 128 + Math.floor(r() * (buf.length - 128));
  switch (Math.floor(r() * 4)) {
    case 0:
      return buf.subarray(0, Math.floor(r() * buf.length));
    case 1: {
      const flips = 1 + Math.floor(r() * 4);
      for (let f = 0; f < flips; f++) buf[at()] = Math.floor(r() * 256);
      return buf;
    }
    case 2: {
      const start = at();
      buf.fill(
        Math.floor(r() * 256),
        start,
        Math.min(buf.length, start + 1 + Math.floor(r() * 64)),
      );
      return buf;
    }
    default: {
      const chars = "0123456789-+.eE\\ aZ";
      const n = 1 + Math.floor(r() * 3);
      for (let f = 0; f < n; f++) buf[at()] = chars.charCodeAt(Math.floor(r() * chars.length));
      return buf;
    }
  }
}
