/**
 * Encoders for test frames, made at test time: JPEG-LS and JPEG 2000 through the encoders
 * that ship in the full builds of the cornerstone codec packages (the library loads only
 * their decode-only builds), and JPEG lossless (process 14, SV1, predictor 1) written here,
 * since no encoder ships with jpeg-lossless-decoder-js.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

interface WasmEncoder {
  getDecodedBuffer(info: Record<string, unknown>): Uint8Array;
  getEncodedBuffer(): Uint8Array;
  setDecompositions?(n: number): void;
  encode(): void;
  delete(): void;
}
type EncoderModule = Record<string, new () => WasmEncoder>;

const modules = new Map<string, Promise<EncoderModule>>();

function load(pkg: string): Promise<EncoderModule> {
  let m = modules.get(pkg);
  if (!m) {
    // `wasmjs` / `wasm`: the full build (encoder and decoder).
    const factory = require(`${pkg}/wasmjs`) as (a: object) => Promise<EncoderModule>;
    const wasmBinary = readFileSync(require.resolve(`${pkg}/wasm`));
    const quiet = () => {};
    m = factory({ wasmBinary, print: quiet, printErr: quiet });
    modules.set(pkg, m);
  }
  return m;
}

async function encodeWasm(
  pkg: string,
  kind: string,
  words: Uint16Array,
  width: number,
  height: number,
): Promise<Uint8Array> {
  const m = await load(pkg);
  const enc = new m[kind]();
  try {
    const info = {
      width,
      height,
      bitsPerSample: 16,
      componentCount: 1,
      isSigned: false,
      isUsingColorTransform: false,
    };
    enc
      .getDecodedBuffer(info)
      .set(new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    enc.setDecompositions?.(1); // small test frames: few wavelet levels
    enc.encode();
    return Uint8Array.from(enc.getEncodedBuffer());
  } finally {
    enc.delete();
  }
}

/** A lossless JPEG-LS frame of unsigned 16-bit samples. */
export function encodeJpegLs(words: Uint16Array, width: number, height: number) {
  return encodeWasm("@cornerstonejs/codec-charls", "JpegLSEncoder", words, width, height);
}

/** A lossless JPEG 2000 codestream of unsigned 16-bit samples. */
export function encodeJpeg2000(words: Uint16Array, width: number, height: number) {
  return encodeWasm("@cornerstonejs/codec-openjpeg", "J2KEncoder", words, width, height);
}

/**
 * A JPEG lossless frame (SOF3, 16-bit precision, one component, predictor 1: the left
 * neighbour; first row and column as the standard says) with one Huffman table giving every
 * difference category 0..16 a 5-bit code.
 */
export function encodeJpegLossless(words: Uint16Array, width: number, height: number): Uint8Array {
  const bytes: number[] = [];
  const marker = (m: number, body: number[]) => {
    bytes.push(0xff, m, (body.length + 2) >> 8, (body.length + 2) & 0xff, ...body);
  };
  bytes.push(0xff, 0xd8);
  marker(0xc3, [16, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]);
  const counts = new Array(16).fill(0);
  counts[4] = 17;
  marker(0xc4, [0x00, ...counts, ...Array.from({ length: 17 }, (_, i) => i)]);
  marker(0xda, [1, 1, 0x00, 1, 0, 0]);
  let acc = 0;
  let nbits = 0;
  const put = (value: number, n: number) => {
    for (let b = n - 1; b >= 0; b--) {
      acc = (acc << 1) | ((value >>> b) & 1);
      if (++nbits === 8) {
        bytes.push(acc);
        if (acc === 0xff) bytes.push(0); // byte stuffing
        acc = 0;
        nbits = 0;
      }
    }
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const pred =
        y === 0 && x === 0
          ? 32768
          : y === 0
            ? words[i - 1]
            : x === 0
              ? words[i - width]
              : words[i - 1];
      let diff = (words[i] - pred) & 0xffff;
      if (diff > 32768) diff -= 65536;
      const ssss = diff === 0 ? 0 : diff === 32768 ? 16 : 32 - Math.clz32(Math.abs(diff));
      put(ssss, 5);
      if (ssss > 0 && ssss < 16) put(diff > 0 ? diff : diff - 1, ssss);
    }
  }
  if (nbits > 0) put(0xff, 8 - nbits); // pad with ones
  bytes.push(0xff, 0xd9);
  return Uint8Array.from(bytes);
}
