/**
 * WebAssembly SIMD kernels (8 voxels per instruction) for the two common HU cases, built
 * here from their opcodes (no toolchain, no binary in the repo). About 5x faster than the
 * JavaScript loops of hu.ts, copies in and out of the module's memory included. Each is
 * checked against its JavaScript definition on all 65536 stored values in test/hu.test.ts.
 *
 * - `pad(nvec, lo, hi)`, signed 16-bit stored values, slope 1, intercept 0, in place at 0:
 *   `v` in [lo, hi] -> -1000, else `v` < -1024 -> -1024, else `v` (lo > hi: no padding).
 *   Per 8 lanes: bitselect(-1000, bitselect(-1024, v, v < -1024), lo <= v & v <= hi).
 * - `addc(nvec, cap, ic)`, unsigned 16-bit stored values, slope 1, integer intercept `ic` in
 *   [-1024, 32767], no padding, in place at 0: `min_u(v, cap) + ic` with cap = 32767 - ic,
 *   i.e. min(v + ic, 32767), never below -1024.
 *
 * `nvec` counts 16-byte vectors (8 voxels). Undefined where WebAssembly SIMD is missing.
 */
import {
  assembleModule,
  BLOCK,
  br,
  brIf,
  END,
  func,
  get,
  I32,
  i32c as i32,
  LOOP,
  set,
  simd,
  tee,
  V128,
  type WasmMemory,
  webAssembly,
} from "@lungflow/patch-kernels/wasm-assembler";

export interface SimdKernels {
  /** The module's memory: voxels are copied to byte 0, converted, copied out. */
  memory: WasmMemory;
  /** Voxels that fit in the memory at once (a multiple of 8). */
  capacity: number;
  /** Views of the whole memory (it never grows). */
  u16: Uint16Array;
  i16: Int16Array;
  pad(nvec: number, lo: number, hi: number): void;
  addc(nvec: number, cap: number, ic: number): void;
}

const LOAD = [...simd(0x00), 4, 0]; // v128.load align=16 offset=0
const STORE = [...simd(0x0b), 4, 0]; // v128.store
const SPLAT = simd(0x10); // i16x8.splat
const LT_S = simd(0x2f); // i16x8.lt_s
const LE_S = simd(0x33); // i16x8.le_s
const GE_S = simd(0x35); // i16x8.ge_s
const AND = simd(0x4e); // v128.and
const BITSELECT = simd(0x52); // v128.bitselect
const ADD = simd(0x8e); // i16x8.add (wrapping)
const MIN_U = simd(0x97); // i16x8.min_u
// Shared loop over bytes [0, nvec * 16): params 0..2, local 3 = p (byte offset).
const loop = (body: number[]) => [
  ...get(0),
  ...i32(4),
  0x74, // i32.shl
  ...set(0),
  ...BLOCK,
  ...LOOP,
  ...get(3),
  ...get(0),
  0x4f, // i32.ge_u
  ...brIf(1), // out of the block
  ...body,
  ...get(3),
  ...i32(16),
  0x6a, // i32.add
  ...set(3),
  ...br(0), // to the loop
  END,
  END,
];
// pad: locals 3 p, 4 lo x8, 5 hi x8, 6 -1024 x8, 7 -1000 x8, 8 v
const PAD = func(
  [
    [1, I32],
    [5, V128],
  ],
  [
    ...get(1),
    ...SPLAT,
    ...set(4),
    ...get(2),
    ...SPLAT,
    ...set(5),
    ...i32(-1024),
    ...SPLAT,
    ...set(6),
    ...i32(-1000),
    ...SPLAT,
    ...set(7),
    ...loop([
      ...get(3), // store address
      ...get(7),
      ...get(6),
      ...get(3),
      ...LOAD,
      ...tee(8),
      ...get(8),
      ...get(6),
      ...LT_S,
      ...BITSELECT, // v < -1024 ? -1024 : v
      ...get(8),
      ...get(4),
      ...GE_S,
      ...get(8),
      ...get(5),
      ...LE_S,
      ...AND, // lo <= v <= hi
      ...BITSELECT, // padding ? -1000 : previous
      ...STORE,
    ]),
    END,
  ],
);
// addc: locals 3 p, 4 cap x8, 5 ic x8
const ADDC = func(
  [
    [1, I32],
    [2, V128],
  ],
  [
    ...get(1),
    ...SPLAT,
    ...set(4),
    ...get(2),
    ...SPLAT,
    ...set(5),
    ...loop([...get(3), ...get(3), ...LOAD, ...get(4), ...MIN_U, ...get(5), ...ADD, ...STORE]),
    END,
  ],
);
const PAGES = 8; // 512 KiB: one 512x512 slice at a time

/** The module: `pad` and `addc` on a memory of its own, exported as `mem`. */
function moduleBytes(): Uint8Array {
  return assembleModule({
    types: [[[I32, I32, I32], []]],
    memory: { minPages: PAGES },
    functions: [0, 0],
    exports: [
      ["mem", "memory", 0],
      ["pad", "func", 0],
      ["addc", "func", 1],
    ],
    bodies: [PAD, ADDC],
  });
}

function load(): SimdKernels | undefined {
  try {
    const bytes = moduleBytes();
    const wasm = webAssembly();
    if (!wasm?.validate(bytes)) return undefined;
    const inst = new wasm.Instance(new wasm.Module(bytes));
    const e = inst.exports as {
      mem: WasmMemory;
      pad: (n: number, a: number, b: number) => void;
      addc: (n: number, a: number, b: number) => void;
    };
    return {
      memory: e.mem,
      capacity: (PAGES * 65536) / 2,
      u16: new Uint16Array(e.mem.buffer),
      i16: new Int16Array(e.mem.buffer),
      pad: e.pad,
      addc: e.addc,
    };
  } catch {
    return undefined;
  }
}

/** The kernels, or undefined (then hu.ts uses its JavaScript loops). */
export const simdKernels: SimdKernels | undefined = load();
