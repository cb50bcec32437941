import assert from "node:assert/strict";
import { test } from "node:test";
import {
  assembleModule,
  BLOCK,
  br,
  brIf,
  END,
  func,
  get,
  I32,
  i32c,
  LOOP,
  mem,
  set,
  simd,
  sleb,
  uleb,
  V128,
  webAssembly,
} from "../src/wasm/assembler.ts";

test("LEB128: the format's own examples and the edges of each byte count", () => {
  assert.deepEqual(uleb(0), [0]);
  assert.deepEqual(uleb(127), [0x7f]);
  assert.deepEqual(uleb(128), [0x80, 0x01]);
  assert.deepEqual(uleb(624485), [0xe5, 0x8e, 0x26]);
  assert.deepEqual(uleb(2 ** 32 - 1), [0xff, 0xff, 0xff, 0xff, 0x0f]);
  assert.deepEqual(sleb(0), [0]);
  assert.deepEqual(sleb(63), [0x3f]);
  assert.deepEqual(sleb(64), [0xc0, 0x00]);
  assert.deepEqual(sleb(-1), [0x7f]);
  assert.deepEqual(sleb(-64), [0x40]);
  assert.deepEqual(sleb(-65), [0xbf, 0x7f]);
  assert.deepEqual(sleb(-123456), [0xc0, 0xbb, 0x78]);
});

test("an assembled module validates, instantiates and computes (own memory, loops, SIMD)", () => {
  const wa = webAssembly();
  assert.ok(wa, "this Node has WebAssembly");
  // sum(n): 1 + 2 + ... + n with a block/loop; fill(p, v): 16 bytes at p = i8x16.splat(v).
  const sum = func(
    [[1, I32]],
    [
      ...i32c(0),
      ...set(1),
      ...BLOCK,
      ...LOOP,
      ...get(0),
      0x45, // i32.eqz
      ...brIf(1),
      ...get(1),
      ...get(0),
      0x6a, // i32.add
      ...set(1),
      ...get(0),
      ...i32c(-1),
      0x6a,
      ...set(0),
      ...br(0),
      END,
      END,
      ...get(1),
      END,
    ],
  );
  const fill = func(
    [[1, V128]],
    [...get(0), ...get(1), ...simd(0x0f), ...simd(0x0b), ...mem(4), END],
  );
  const bytes = assembleModule({
    types: [
      [[I32], [I32]],
      [[I32, I32], []],
    ],
    memory: { minPages: 1 },
    functions: [0, 1],
    exports: [
      ["mem", "memory", 0],
      ["sum", "func", 0],
      ["fill", "func", 1],
    ],
    bodies: [sum, fill],
  });
  assert.ok(wa.validate(bytes));
  const e = new wa.Instance(new wa.Module(bytes)).exports as {
    mem: { buffer: ArrayBuffer };
    sum: (n: number) => number;
    fill: (p: number, v: number) => void;
  };
  assert.equal(e.sum(100), 5050);
  assert.equal(e.sum(0), 0);
  e.fill(32, 7);
  const m = new Uint8Array(e.mem.buffer);
  assert.equal(m.length, 65536);
  assert.deepEqual([...m.subarray(31, 49)], [0, ...Array(16).fill(7), 0]);
});

test("an imported memory is the host's", () => {
  const wa = webAssembly()!;
  // store(p, v): i32.store at p.
  const bytes = assembleModule({
    types: [[[I32, I32], []]],
    importMemory: { module: "env", name: "mem", minPages: 1 },
    functions: [0],
    exports: [["store", "func", 0]],
    bodies: [func([], [...get(0), ...get(1), 0x36, ...mem(2), END])],
  });
  const memory = new wa.Memory({ initial: 1 });
  const e = new wa.Instance(new wa.Module(bytes), { env: { mem: memory } }).exports as {
    store: (p: number, v: number) => void;
  };
  e.store(8, -5);
  assert.equal(new Int32Array(memory.buffer)[2], -5);
  assert.throws(() => new wa.Instance(new wa.Module(bytes), {}));
});
