import { createRequire } from "node:module";
import * as zarr from "zarrita";

/** The zstd implementation chunk codecs use: native (libzstd in an addon) or WebAssembly. */
export type ZstdBackendName = "native" | "wasm";

/** Which zstd backend chunks are encoded and decoded with, and why not native when not. */
export interface ZstdBackendInfo {
  backend: ZstdBackendName;
  /** Why the native backend is not used (load error, or LUNGFLOW_ZSTD=wasm / setZstdBackend). */
  reason?: string;
}

/** The surface of `@mongodb-js/zstd` used here (async: runs off the JS thread). */
interface NativeZstd {
  compress(data: Buffer, level?: number): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

interface WasmZstd {
  encode(data: Uint8Array): Promise<Uint8Array>;
  decode(data: Uint8Array): Promise<Uint8Array>;
}
type WasmZstdClass = { fromConfig(c: { level: number }): WasmZstd };

let native: NativeZstd | null | undefined;
let nativeError: string | undefined;
let forced: ZstdBackendName | undefined;
let wasmClass: Promise<WasmZstdClass> | undefined;

let loader = (): NativeZstd => createRequire(import.meta.url)("@mongodb-js/zstd") as NativeZstd;

/** Tests only: replaces the addon loader and forgets what the last one loaded. */
export function setNativeZstdLoaderForTest(load: () => NativeZstd): void {
  loader = load;
  native = undefined;
  nativeError = undefined;
}

/** Loads the native addon once; null (with the reason kept) when it cannot load here. */
function loadNative(): NativeZstd | null {
  if (native !== undefined) return native;
  try {
    native = loader();
  } catch (err) {
    native = null;
    nativeError = `@mongodb-js/zstd did not load: ${(err as Error)?.message ?? err}`;
  }
  return native;
}

function wasm(): Promise<WasmZstdClass> {
  wasmClass ??= import("numcodecs/zstd").then((m) => m.default as unknown as WasmZstdClass);
  return wasmClass;
}

/** The native module when chunks should use it now, else null. */
function nativeNow(): NativeZstd | null {
  if (forced === "wasm" || process.env.LUNGFLOW_ZSTD === "wasm") return null;
  return loadNative();
}

/**
 * Which zstd backend the store's chunk codec uses in this thread: the native one (libzstd
 * 1.5.2 prebuilt in `@mongodb-js/zstd`, compressing on its own threads) unless it failed to
 * load, `LUNGFLOW_ZSTD=wasm` is set, or {@link setZstdBackend} chose `"wasm"`; then the
 * WebAssembly build of numcodecs. Both read and write the same zstd frames.
 */
export function zstdBackend(): ZstdBackendInfo {
  if (forced === "wasm") return { backend: "wasm", reason: "setZstdBackend('wasm')" };
  if (process.env.LUNGFLOW_ZSTD === "wasm")
    return { backend: "wasm", reason: "LUNGFLOW_ZSTD=wasm" };
  return loadNative() ? { backend: "native" } : { backend: "wasm", reason: nativeError };
}

/**
 * Chooses the zstd backend of this thread's chunk codecs: `"auto"` (native when it loads,
 * the default) or `"wasm"`. For benchmarks and tests; the stored bytes decode either way.
 */
export function setZstdBackend(choice: "auto" | "wasm"): ZstdBackendInfo {
  forced = choice === "wasm" ? "wasm" : undefined;
  return zstdBackend();
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The Zarr v3 `zstd` codec (`{level, checksum}`; frames without a checksum, as numcodecs
 * writes them) on the backend {@link zstdBackend} names at each call. Native encodes run on
 * the addon's threads, so the chunks zarrita writes concurrently compress in parallel.
 * Frames differ from the WASM codec's in their header (no content size) and may differ in
 * their blocks, but each backend decodes the other's to the same bytes.
 */
export class ZstdCodec {
  readonly kind = "bytes_to_bytes";
  readonly level: number;
  constructor(level = 3) {
    // As numcodecs: <= 0 means its default (1), above 22 is 22.
    this.level = level <= 0 ? 1 : Math.min(22, level);
  }
  static fromConfig(config: { level?: number } = {}): ZstdCodec {
    return new ZstdCodec(config.level);
  }
  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    const n = nativeNow();
    if (n) return asBytes(await n.compress(asBuffer(bytes), this.level));
    return (await wasm()).fromConfig({ level: this.level }).encode(bytes);
  }
  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    const n = nativeNow();
    if (n) return asBytes(await n.decompress(asBuffer(bytes)));
    return (await wasm()).fromConfig({ level: this.level }).decode(bytes);
  }
}

let registered = false;
/** Makes zarrita's `zstd` codec {@link ZstdCodec} (idempotent). */
export function registerZstd(): void {
  if (registered) return;
  // biome-ignore lint/suspicious/noExplicitAny: zarrita's registry entry type is internal
  zarr.registry.set("zstd", (async () => ZstdCodec) as any);
  registered = true;
}
