import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

/** The part of the emscripten decoders (codec-charls, codec-openjpeg) we use; they ship no types. */
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned?: boolean;
  };
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}
type WasmModule = { JpegLSDecoder?: new () => WasmDecoder; J2KDecoder?: new () => WasmDecoder };
type Factory = (args: Record<string, unknown>) => Promise<WasmModule>;

let charls: Promise<WasmModule> | undefined;
let openjpeg: Promise<WasmModule> | undefined;

function load(pkg: string): Promise<WasmModule> {
  const factory = require(`${pkg}/decodewasmjs`) as Factory;
  // Hand over the wasm bytes ourselves (no fetch/locateFile guessing) and silence the
  // decoders' console output (openjpeg prints "[INFO]" lines for every frame).
  const wasmBinary = readFileSync(require.resolve(`${pkg}/decodewasm`));
  const quiet = () => {};
  return factory({ wasmBinary, print: quiet, printErr: quiet });
}

export interface DecodedFrame {
  /** The decoded samples, copied out of wasm memory (little-endian 16-bit words). */
  data: Uint16Array;
  width: number;
  height: number;
  bitsPerSample: number;
}

async function runWasm(
  mod: Promise<WasmModule>,
  kind: "JpegLSDecoder" | "J2KDecoder",
  frame: Uint8Array,
): Promise<DecodedFrame> {
  const m = await mod;
  const Ctor = m[kind];
  if (!Ctor) throw new Error(`${kind} missing from the codec module`);
  const dec = new Ctor();
  try {
    dec.getEncodedBuffer(frame.length).set(frame);
    dec.decode();
    const info = dec.getFrameInfo();
    if (info.componentCount !== 1) throw new Error(`${info.componentCount} components, expected 1`);
    if (info.bitsPerSample <= 8 || info.bitsPerSample > 16)
      throw new Error(`${info.bitsPerSample} bits per sample, expected 9..16`);
    const view = dec.getDecodedBuffer();
    // The view points into wasm memory, which the next decode reuses: copy it out.
    const data = new Uint16Array(info.width * info.height);
    new Uint8Array(data.buffer).set(view.subarray(0, data.byteLength));
    return { data, width: info.width, height: info.height, bitsPerSample: info.bitsPerSample };
  } finally {
    dec.delete();
  }
}

/** JPEG-LS (lossless and near-lossless) through @cornerstonejs/codec-charls. */
export function decodeJpegLs(frame: Uint8Array): Promise<DecodedFrame> {
  charls ??= load("@cornerstonejs/codec-charls");
  return runWasm(charls, "JpegLSDecoder", frame);
}

/** JPEG 2000 through @cornerstonejs/codec-openjpeg. */
export function decodeJpeg2000(frame: Uint8Array): Promise<DecodedFrame> {
  openjpeg ??= load("@cornerstonejs/codec-openjpeg");
  return runWasm(openjpeg, "J2KDecoder", frame);
}

type LosslessDecoder = {
  decompress(buf: ArrayBufferLike, offset: number, length: number): ArrayBuffer;
};
let losslessCtor: Promise<new () => LosslessDecoder> | undefined;

/** JPEG lossless (processes 14 and 14 SV1) through jpeg-lossless-decoder-js. */
export async function decodeJpegLossless(
  frame: Uint8Array,
  pixelCount: number,
): Promise<Uint16Array> {
  losslessCtor ??= import("jpeg-lossless-decoder-js").then(
    (m) => (m as unknown as { Decoder: new () => LosslessDecoder }).Decoder,
  );
  const Decoder = await losslessCtor;
  const out = new Decoder().decompress(frame.buffer, frame.byteOffset, frame.byteLength);
  if (out.byteLength < pixelCount * 2) {
    throw new Error(
      `JPEG lossless frame decodes to ${out.byteLength} bytes, expected ${pixelCount * 2}`,
    );
  }
  return new Uint16Array(out, 0, pixelCount);
}
