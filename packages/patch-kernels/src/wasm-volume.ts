import { type WasmMemory, webAssembly } from "./wasm/assembler.js";
import { patchModuleBytes } from "./wasm/patch-module.js";

let compiled: object | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is not available. */
export function wasmModule(): object | null {
  if (compiled === undefined) {
    try {
      const wa = webAssembly();
      compiled = wa ? new wa.Module(patchModuleBytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

export type GatherFn = (
  src: number,
  dst: number,
  n0: number,
  n1: number,
  n2: number,
  s0: number,
  s1: number,
  o0: number,
  o1: number,
  o2: number,
  a: number,
  b: number,
  lo: number,
  hi: number,
) => void;

export type TileFn = (
  src: number,
  dst: number,
  n0: number,
  s0: number,
  o0: number,
  nc: number,
  oc: number,
  n2: number,
  s2: number,
  a: number,
  b: number,
  lo: number,
  hi: number,
) => void;

export type CopyinFn = (
  src: number,
  dst: number,
  n0: number,
  n1: number,
  s0: number,
  s1: number,
  rowBytes: number,
) => void;

/** A wasm memory of at least `bytes` with the kernels bound to it. */
export function wasmInstance(
  bytes: number,
): { memory: WasmMemory; gather: GatherFn; tile: TileFn; copyin: CopyinFn } | null {
  const m = wasmModule();
  const wa = webAssembly();
  if (!m || !wa) return null;
  const memory = new wa.Memory({ initial: Math.ceil(bytes / 65536) + 1 });
  const inst = new wa.Instance(m, { env: { mem: memory } });
  return {
    memory,
    gather: inst.exports.gather as GatherFn,
    tile: inst.exports.tile as TileFn,
    copyin: inst.exports.copyin as CopyinFn,
  };
}

/**
 * A decoded HU volume in wasm memory, with a scratch and an output patch behind it. The
 * volume is stored with a border of `pad` voxels of air (-1000 HU) on every side, so the
 * patches that reach past the volume by up to `pad` voxels (a patch centred on a lung voxel
 * at the edge of the crop box reaches out by half its size) are cut in place like any other.
 */
export interface WasmVolume {
  /** Shape of the volume (without the border). */
  shape: [number, number, number];
  pad: number;
  /** Shape with the border: `shape + 2 * pad`. */
  padded: [number, number, number];
  /** The padded volume (a view of wasm memory: never keep it past eviction from the cache). */
  hu: Int16Array;
  /** Voxels of the largest patch the scratch and output areas hold. */
  patchVoxels: number;
  gather: GatherFn;
  tile: TileFn;
  copyin: CopyinFn;
  /** Dense int16 block of a patch (cut from the volume by `copyin`, or filled with air by `extractPatch`). */
  scratch: Int16Array;
  scratchPtr: number;
  out: Float32Array;
  outPtr: number;
  bytes: number;
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/**
 * Copies `hu` into a fresh wasm memory with a border of `pad` air voxels (default: half
 * the edge of a cubic patch of `patchVoxels`); null where wasm SIMD is unavailable.
 */
export function wasmVolume(
  hu: Int16Array,
  shape: [number, number, number],
  patchVoxels: number,
  pad = Math.ceil(Math.cbrt(patchVoxels) / 2),
): WasmVolume | null {
  const [nz, ny, nx] = shape;
  const padded: [number, number, number] = [nz + 2 * pad, ny + 2 * pad, nx + 2 * pad];
  const n = padded[0] * padded[1] * padded[2];
  const scratchPtr = align(2 * n);
  // The output patch sits half a page off page alignment: the batch buffers it is copied
  // into are page-aligned (patch offsets are multiples of 4 KiB), and a copy whose source
  // and destination addresses agree modulo 4 KiB suffers 4K aliasing (every load waits on
  // the stores before it): 70 us instead of 4 us per 32^3 patch here.
  // (16 bytes of slack behind the scratch take copyin's last 16-byte piece.)
  const outPtr = Math.ceil((scratchPtr + 2 * patchVoxels + 16 - 2048) / 4096) * 4096 + 2048;
  const bytes = outPtr + 4 * patchVoxels;
  const inst = wasmInstance(bytes);
  if (!inst) return null;
  const buf = inst.memory.buffer;
  const view = new Int16Array(buf, 0, n);
  view.fill(-1000);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      const s = (z * ny + y) * nx;
      view.set(hu.subarray(s, s + nx), ((z + pad) * padded[1] + y + pad) * padded[2] + pad);
    }
  }
  return {
    shape,
    pad,
    padded,
    hu: view,
    patchVoxels,
    gather: inst.gather,
    tile: inst.tile,
    copyin: inst.copyin,
    scratch: new Int16Array(buf, scratchPtr, patchVoxels),
    scratchPtr,
    out: new Float32Array(buf, outPtr, patchVoxels),
    outPtr,
    bytes: buf.byteLength,
  };
}
