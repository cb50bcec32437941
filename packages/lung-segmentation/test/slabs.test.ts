import assert from "node:assert/strict";
import { test } from "node:test";
import { makePhantom } from "@lungflow/phantom";
import { makeVolume, type SlabRunner } from "@lungflow/volume";
import { otsuThreshold, segmentLungs } from "../src/index.ts";

/** Splits like a threaded runner (shared memory), runs the parts last to first, here. */
function reversedRunner(): SlabRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    alloc: (ctor, length) => new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT)),
    forEach(kernel, parts, args) {
      calls.push(`${kernel.name}:${parts}`);
      for (let p = parts - 1; p >= 0; p--) kernel.run(args, p);
    },
  };
}

test("segmentLungs split into slabs gives the same mask, crop and stats, both modes", () => {
  const p = makePhantom({ seed: 5, slices: 90, matrix: 300, pixelSpacing: 1, sliceSpacing: 1 });
  // Over 4M voxels, so that the histogram is split too.
  const data = new Int16Array(new SharedArrayBuffer(p.hu.byteLength));
  data.set(p.hu);
  const hu = makeVolume(data, p.shape, p.spacing, p.origin);
  for (const mode of ["kdsb17", "improved"] as const) {
    const one = segmentLungs(hu, { mode });
    const runner = reversedRunner();
    const split = segmentLungs(hu, { mode, runner });
    assert.deepEqual(runner.calls, ["lung-segmentation/histogram:2", "lung-segmentation/clean:6"]);
    assert.equal(split.otsuThreshold, otsuThreshold(p.hu));
    assert.deepEqual(split.bbox, one.bbox);
    assert.deepEqual(split.mask.shape, one.mask.shape);
    assert.deepEqual(split.mask.origin, one.mask.origin);
    assert.ok(Buffer.from(split.mask.data.buffer).equals(Buffer.from(one.mask.data.buffer)));
    assert.ok(Buffer.from(split.hu.data.buffer).equals(Buffer.from(one.hu.data.buffer)));
    const { timingsMs: _a, ...a } = split.stats;
    const { timingsMs: _b, ...b } = one.stats;
    assert.deepEqual(a, b);
    assert.ok(b.lungVoxels > 0);
  }
});
