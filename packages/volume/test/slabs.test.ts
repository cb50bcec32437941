import assert from "node:assert/strict";
import { test } from "node:test";
import {
  makeVolume,
  resample,
  type SlabRunner,
  serialSlabs,
  slabCount,
  slabRange,
} from "../src/index.ts";
import { randomInt16, rng } from "./rng.ts";

/** A runner that splits like a threaded one but runs the parts last to first, here. */
function reversedRunner(): SlabRunner & { calls: { name: string; parts: number }[] } {
  const calls: { name: string; parts: number }[] = [];
  return {
    calls,
    alloc: (ctor, length) => new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT)),
    forEach(kernel, parts, args) {
      calls.push({ name: kernel.name, parts });
      for (let p = parts - 1; p >= 0; p--) kernel.run(args, p);
    },
  };
}

test("slabRange covers 0..n in order without overlap", () => {
  for (const [n, parts] of [
    [1, 1],
    [7, 3],
    [224, 14],
    [5, 5],
  ]) {
    let next = 0;
    for (let p = 0; p < parts; p++) {
      const [a, b] = slabRange(n, parts, p);
      assert.equal(a, next);
      assert.ok(b >= a);
      next = b;
    }
    assert.equal(next, n);
  }
  assert.equal(slabCount(0, 16), 1);
  assert.equal(slabCount(33, 16), 3);
});

test("resample split into z-slabs equals the one-slab result, every element type", () => {
  const shape: [number, number, number] = [40, 23, 31];
  const n = shape[0] * shape[1] * shape[2];
  const r = rng(7);
  const arrays = [
    randomInt16(n, 3),
    Uint8Array.from({ length: n }, () => (r() < 0.4 ? 1 : 0)),
    Uint16Array.from({ length: n }, () => Math.floor(r() * 4000)),
    Float32Array.from({ length: n }, () => r() * 100 - 50),
  ];
  for (const data of arrays) {
    const v = makeVolume(data, shape, [1.25, 0.7, 0.7]);
    const one = resample(v, [1, 1, 1]);
    const runner = reversedRunner();
    const split = resample(v, [1, 1, 1], { runner });
    assert.equal(runner.calls[0].name, "volume/resample");
    assert.ok(runner.calls[0].parts > 1, "the output (50 slices) is cut into several slabs");
    assert.ok(split.data.buffer instanceof SharedArrayBuffer, "output from runner.alloc");
    assert.deepEqual(split.shape, one.shape);
    assert.deepEqual(split.spacing, one.spacing);
    assert.deepEqual(Buffer.from(split.data.buffer), Buffer.from(one.data.buffer));
  }
  assert.equal(serialSlabs.alloc(Int16Array, 3).length, 3);
});
