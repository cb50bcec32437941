/**
 * A small WebAssembly assembler: the byte encodings lungflow's SIMD kernels are written in
 * (this package's patch kernel, `@lungflow/dicom-ingest`'s HU kernels), so a kernel is
 * TypeScript arrays of opcodes assembled at load time: no toolchain, no binary in the repo.
 * It encodes; it does not check. `webAssembly()` validates and compiles, and a kernel that
 * fails to compile (no SIMD) is left to its JavaScript fallback.
 *
 * ```ts
 * // (func (param i32) (result i32) local.get 0 i32.const 1 i32.add), exported as "inc"
 * const bytes = assembleModule({
 *   types: [[[I32], [I32]]],
 *   functions: [0],
 *   exports: [["inc", "func", 0]],
 *   bodies: [func([], [...get(0), ...i32c(1), 0x6a, END])],
 * });
 * ```
 */

/** Unsigned LEB128 (sizes, counts, indices, SIMD opcodes). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 (constants). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** A vector: its length, then its items. */
export const vec = (items: readonly (readonly number[])[]): number[] => [
  ...uleb(items.length),
  ...items.flat(),
];
/** A section: its id, its size, its body. */
export const section = (id: number, body: readonly number[]): number[] => [
  id,
  ...uleb(body.length),
  ...body,
];
/** A name (ASCII). */
export const name = (s: string): number[] => [
  ...uleb(s.length),
  ...[...s].map((c) => c.charCodeAt(0)),
];

/** Value types. */
export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

/** local.get / local.set / local.tee of local `i`. */
export const get = (i: number): number[] => [0x20, ...uleb(i)];
export const set = (i: number): number[] => [0x21, ...uleb(i)];
export const tee = (i: number): number[] => [0x22, ...uleb(i)];
/** i32.const `v`. */
export const i32c = (v: number): number[] => [0x41, ...sleb(v)];
/** A SIMD instruction (0xfd prefix) by its opcode. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** The memory argument of a load or store: log2 of the alignment, byte offset. */
export const mem = (align: number, offset = 0): number[] => [...uleb(align), ...uleb(offset)];
/** block / loop without a result; `END` closes them (and a function body). */
export const BLOCK = [0x02, 0x40];
export const LOOP = [0x03, 0x40];
export const END = 0x0b;
/** br / br_if to the `d`-th enclosing block or loop. */
export const br = (d: number): number[] => [0x0c, ...uleb(d)];
export const brIf = (d: number): number[] => [0x0d, ...uleb(d)];

/**
 * A function body: its locals (after the parameters) as runs of `[count, type]`, then its
 * code (which ends with `END`).
 */
export const func = (
  locals: readonly (readonly [count: number, type: number])[],
  code: readonly number[],
): number[] => [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code];

/** What a module holds, section by section (those the kernels need). */
export interface ModuleSpec {
  /** Function types: parameter types, result types. */
  types: readonly (readonly [params: readonly number[], results: readonly number[]])[];
  /** A memory imported from the host (instantiate with `{ [module]: { [name]: memory } }`). */
  importMemory?: { module: string; name: string; minPages: number };
  /** A memory of the module's own. */
  memory?: { minPages: number };
  /** The type index of each function. */
  functions: readonly number[];
  /** Exports: name, kind, index (of the function or memory). */
  exports: readonly (readonly [name: string, kind: "func" | "memory", index: number])[];
  /** Each function's body, from `func`. */
  bodies: readonly (readonly number[])[];
}

const KIND = { func: 0x00, memory: 0x02 } as const;

/** The binary module (version 1) of `spec`, sections in the order the format requires. */
export function assembleModule(spec: ModuleSpec): Uint8Array {
  const memLimits = (minPages: number) => [0x00, ...uleb(minPages)];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec(
        spec.types.map(([params, results]) => [
          0x60,
          ...vec(params.map((t) => [t])),
          ...vec(results.map((t) => [t])),
        ]),
      ),
    ),
    ...(spec.importMemory
      ? section(
          2,
          vec([
            [
              ...name(spec.importMemory.module),
              ...name(spec.importMemory.name),
              KIND.memory,
              ...memLimits(spec.importMemory.minPages),
            ],
          ]),
        )
      : []),
    ...section(3, vec(spec.functions.map((t) => uleb(t)))),
    ...(spec.memory ? section(5, vec([memLimits(spec.memory.minPages)])) : []),
    ...section(
      7,
      vec(spec.exports.map(([n, kind, index]) => [...name(n), KIND[kind], ...uleb(index)])),
    ),
    ...section(10, vec(spec.bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

/** A WebAssembly memory (its buffer is replaced when it grows). */
export interface WasmMemory {
  buffer: ArrayBuffer;
}

/** The parts of the WebAssembly API the kernels use (the compiler's lib has no DOM types). */
export interface WebAssemblyApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Memory: new (d: { initial: number }) => WasmMemory;
  Instance: new (module: object, imports?: object) => { exports: Record<string, unknown> };
}

/** The host's WebAssembly, or undefined where there is none. */
export function webAssembly(): WebAssemblyApi | undefined {
  return (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
}
