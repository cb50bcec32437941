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
/** The parts of the WebAssembly API used here (the compiler's lib has no DOM types). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<object>;
}
const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

type WasmModule = { JpegLSDecoder?: new () => WasmDecoder; J2KDecoder?: new () => WasmDecoder };
type Factory = (args: Record<string, unknown>) => Promise<WasmModule>;

/**
 * One emscripten codec, instantiated on first use. A corrupt stream makes the C++ code throw
 * through wasm, and every such exception leaves the instance's memory a little more broken
 * (leaked exception objects, a heap that finally reads out of bounds: after a few hundred
 * corrupt JPEG-LS frames every later decode failed, valid ones included). So after any error
 * the instance is thrown away and the next decode gets a fresh one; the compiled module is
 * kept, so that costs an instantiation (well under a millisecond), not a compile.
 */
class WasmCodec {
  #compiled: Promise<object> | undefined;
  #instance: Promise<WasmModule> | undefined;

  constructor(readonly pkg: string) {}

  get(): Promise<WasmModule> {
    this.#instance ??= this.#instantiate();
    return this.#instance;
  }

  /** Drops the instance (after an error): the next `get` makes a new one. */
  reset(): void {
    this.#instance = undefined;
  }

  #instantiate(): Promise<WasmModule> {
    const factory = require(`${this.pkg}/decodewasmjs`) as Factory;
    // Compile the wasm bytes ourselves (no fetch/locateFile guessing), once.
    this.#compiled ??= wasmApi.compile(readFileSync(require.resolve(`${this.pkg}/decodewasm`)));
    const compiled: Promise<object> = this.#compiled;
    // Silence the decoders' console output (openjpeg prints "[INFO]" lines for every frame).
    const quiet = () => {};
    const p = factory({
      print: quiet,
      printErr: quiet,
      instantiateWasm(imports: object, receive: (instance: object, module: object) => void) {
        compiled
          .then((m) => wasmApi.instantiate(m, imports).then((inst) => receive(inst, m)))
          .catch(quiet); // a failed instantiation rejects the factory's promise
        return {};
      },
    });
    p.catch(() => this.reset());
    return p;
  }
}

const charls = new WasmCodec("@cornerstonejs/codec-charls");
const openjpeg = new WasmCodec("@cornerstonejs/codec-openjpeg");

export interface DecodedFrame {
  /** The decoded samples, copied out of wasm memory (little-endian 16-bit words). */
  data: Uint16Array;
  width: number;
  height: number;
  bitsPerSample: number;
}

async function runWasm(
  codec: WasmCodec,
  kind: "JpegLSDecoder" | "J2KDecoder",
  frame: Uint8Array,
): Promise<DecodedFrame> {
  const m = await codec.get();
  const Ctor = m[kind];
  if (!Ctor) throw new Error(`${kind} missing from the codec module`);
  let dec: WasmDecoder | undefined;
  let info: ReturnType<WasmDecoder["getFrameInfo"]>;
  let view: Uint8Array;
  try {
    dec = new Ctor();
    dec.getEncodedBuffer(frame.length).set(frame);
    dec.decode();
    info = dec.getFrameInfo();
    view = dec.getDecodedBuffer();
  } catch (e) {
    // Thrown inside the codec: its instance may be broken, use a new one from now on.
    codec.reset();
    dec = undefined;
    throw e;
  }
  try {
    if (info.componentCount !== 1) throw new Error(`${info.componentCount} components, expected 1`);
    if (info.bitsPerSample <= 8 || info.bitsPerSample > 16)
      throw new Error(`${info.bitsPerSample} bits per sample, expected 9..16`);
    const data = new Uint16Array(info.width * info.height);
    if (view.length < data.byteLength)
      throw new Error(`decoded buffer of ${view.length} bytes for ${info.width}x${info.height}`);
    // The view points into wasm memory, which the next decode reuses: copy it out.
    new Uint8Array(data.buffer).set(view.subarray(0, data.byteLength));
    return { data, width: info.width, height: info.height, bitsPerSample: info.bitsPerSample };
  } finally {
    dec.delete();
  }
}

/**
 * The end of a JPEG / JPEG-LS / JPEG 2000 stream must be its end marker (FF D9: EOI, or EOC
 * for JPEG 2000), after at most the zero padding of an even-length DICOM fragment. CharLS
 * spends seconds on a cut JPEG-LS stream (up to 10 s for a 16 x 12 frame), so a missing end
 * marker is refused before decoding; jpeg-lossless-decoder-js decodes a cut stream into a
 * full frame of garbage without an error, so it is checked there too.
 */
export function endsWithEoi(frame: Uint8Array): boolean {
  let n = frame.length;
  while (n > 0 && frame[n - 1] === 0) n--;
  return n >= 2 && frame[n - 2] === 0xff && frame[n - 1] === 0xd9;
}

/** JPEG-LS (lossless and near-lossless) through @cornerstonejs/codec-charls. */
export function decodeJpegLs(frame: Uint8Array): Promise<DecodedFrame> {
  if (!endsWithEoi(frame))
    return Promise.reject(new Error("JPEG-LS stream without its end marker (cut)"));
  return runWasm(charls, "JpegLSDecoder", frame);
}

/** JPEG 2000 through @cornerstonejs/codec-openjpeg. */
export function decodeJpeg2000(frame: Uint8Array): Promise<DecodedFrame> {
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
  if (!endsWithEoi(frame)) throw new Error("JPEG lossless stream without its end marker (cut)");
  const Decoder = await losslessCtor;
  const out = new Decoder().decompress(frame.buffer, frame.byteOffset, frame.byteLength);
  if (out.byteLength < pixelCount * 2) {
    throw new Error(
      `JPEG lossless frame decodes to ${out.byteLength} bytes, expected ${pixelCount * 2}`,
    );
  }
  return new Uint16Array(out, 0, pixelCount);
}
