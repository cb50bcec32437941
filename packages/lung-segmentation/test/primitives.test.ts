import assert from "node:assert/strict";
import { test } from "node:test";
import {
  countBits,
  fillBits,
  morphBlocks,
  morphRowsX,
  rowRuns,
  wordsPerRow,
} from "../src/bit-rows.ts";
import { binaryDilate, binaryErode, binaryOpening, type Shape3 } from "../src/box-morphology.ts";
import { type Connectivity, labelBitRuns, labelComponents, labelRuns } from "../src/label-runs.ts";
import { otsuThreshold } from "../src/otsu-threshold.ts";
import { randomMask, referenceSkip, rng, runReference } from "./reference.ts";

// ---------- brute-force references ----------

/** One erosion/dilation with a box of `size`, zero border, applied `iterations` times. */
function bruteMorph(
  m: Uint8Array,
  shape: Shape3,
  size: Shape3,
  iterations: number,
  erode: boolean,
): Uint8Array {
  const [nz, ny, nx] = shape;
  const [rz, ry, rx] = size.map((k) => (k - 1) / 2);
  let cur = m.slice();
  for (let it = 0; it < iterations; it++) {
    const out = new Uint8Array(cur.length);
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          let all = 1;
          let any = 0;
          for (let dz = -rz; dz <= rz; dz++)
            for (let dy = -ry; dy <= ry; dy++)
              for (let dx = -rx; dx <= rx; dx++) {
                const zz = z + dz;
                const yy = y + dy;
                const xx = x + dx;
                const v =
                  zz < 0 || yy < 0 || xx < 0 || zz >= nz || yy >= ny || xx >= nx
                    ? 0
                    : cur[(zz * ny + yy) * nx + xx];
                all &= v;
                any |= v;
              }
          out[(z * ny + y) * nx + x] = erode ? all : any;
        }
    cur = out;
  }
  return cur;
}

/** Flood-fill labelling with explicit neighbour offsets, numbered in raster order. */
function bruteLabel(m: Uint8Array, shape: Shape3, conn: Connectivity): Int32Array {
  const [nz, ny, nx] = shape;
  const offs: number[][] = [];
  for (let dz = -1; dz <= 1; dz++)
    for (let dy = -1; dy <= 1; dy++)
      for (let dx = -1; dx <= 1; dx++) {
        const k = Math.abs(dz) + Math.abs(dy) + Math.abs(dx);
        if (k === 0) continue;
        const ok =
          conn === 4
            ? dz === 0 && k === 1
            : conn === 8
              ? dz === 0
              : conn === 6
                ? k === 1
                : conn === 18
                  ? k <= 2
                  : true;
        if (ok) offs.push([dz, dy, dx]);
      }
  const lab = new Int32Array(m.length);
  let n = 0;
  for (let i = 0; i < m.length; i++) {
    if (!m[i] || lab[i]) continue;
    lab[i] = ++n;
    const stack = [i];
    while (stack.length) {
      const j = stack.pop()!;
      const z = Math.floor(j / (ny * nx));
      const y = Math.floor(j / nx) % ny;
      const x = j % nx;
      for (const [dz, dy, dx] of offs) {
        const zz = z + dz;
        const yy = y + dy;
        const xx = x + dx;
        if (zz < 0 || yy < 0 || xx < 0 || zz >= nz || yy >= ny || xx >= nx) continue;
        const k = (zz * ny + yy) * nx + xx;
        if (m[k] && !lab[k]) {
          lab[k] = n;
          stack.push(k);
        }
      }
    }
  }
  return lab;
}

function bruteOtsuVariance(v: Int16Array, t: number): number {
  let w1 = 0;
  let w2 = 0;
  let s1 = 0;
  let s2 = 0;
  for (const x of v) {
    if (x <= t) {
      w1++;
      s1 += x;
    } else {
      w2++;
      s2 += x;
    }
  }
  return w1 && w2 ? w1 * w2 * (s1 / w1 - s2 / w2) ** 2 : 0;
}

function randomHu(n: number, rand: () => number, kind: number): Int16Array {
  const v = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const u = rand();
    if (kind === 0)
      v[i] = u < 0.4 ? -1000 + Math.floor(rand() * 200) : Math.floor(rand() * 300) - 100; // bimodal CT-like
    else if (kind === 1)
      v[i] = Math.floor(rand() * 7) - 3; // tiny range, negative values
    else if (kind === 2)
      v[i] = Math.floor(rand() * 65536) - 32768; // the whole int16 range
    else v[i] = u < 0.999 ? 5 : 9; // nearly constant
  }
  return v;
}

const SHAPES: Shape3[] = [
  [3, 11, 13],
  [5, 17, 9],
  [1, 23, 19],
];
const SIZES: [Shape3, number][] = [
  [[1, 5, 5], 2],
  [[5, 1, 5], 4],
  [[1, 5, 1], 4],
  [[3, 3, 3], 1],
  [[1, 3, 1], 3],
];

// ---------- tests against brute force ----------

test("otsuThreshold maximises the between-class variance (brute force)", () => {
  const rand = rng(1);
  for (let kind = 0; kind < 4; kind++) {
    const v = randomHu(5000, rand, kind);
    const t = otsuThreshold(v);
    const best = Math.max(...[...new Set(v)].map((x) => bruteOtsuVariance(v, x)));
    assert.ok(Math.abs(bruteOtsuVariance(v, t) - best) <= 1e-9 * best, `kind ${kind}`);
  }
  assert.equal(otsuThreshold(new Int16Array([7, 7, 7])), 7);
  assert.throws(() => otsuThreshold(new Int16Array(0)), RangeError);
});

test("box erosion/dilation/opening equal iterated brute force (zero border)", () => {
  const rand = rng(2);
  for (const shape of SHAPES) {
    const n = shape[0] * shape[1] * shape[2];
    for (const [size, it] of SIZES) {
      for (const p of [0.5, 0.85]) {
        const m = randomMask(n, p, rand);
        const e = bruteMorph(m, shape, size, it, true);
        const d = bruteMorph(m, shape, size, it, false);
        assert.deepEqual(binaryErode(m, shape, size, it), e, `erode ${shape} ${size}x${it}`);
        assert.deepEqual(binaryDilate(m, shape, size, it), d, `dilate ${shape} ${size}x${it}`);
        assert.deepEqual(
          binaryOpening(m, shape, size, it),
          bruteMorph(e, shape, size, it, false),
          `open ${shape}`,
        );
        const inPlace = m.slice();
        binaryDilate(inPlace, shape, size, it, inPlace);
        assert.deepEqual(inPlace, d, "in place");
      }
    }
  }
  assert.throws(() => binaryErode(new Uint8Array(8), [2, 2, 2], [2, 1, 1]), /odd/);
});

test("labelComponents equals flood fill for 4/8/6/18/26 connectivity", () => {
  const rand = rng(3);
  for (const shape of SHAPES) {
    const n = shape[0] * shape[1] * shape[2];
    for (const p of [0.3, 0.5, 0.6]) {
      const m = randomMask(n, p, rand);
      for (const c of [4, 8, 6, 18, 26] as Connectivity[]) {
        const { labels, count, sizes } = labelComponents(m, shape, c);
        const ref = bruteLabel(m, shape, c);
        assert.deepEqual(labels, ref, `${shape} p=${p} conn=${c}`);
        assert.equal(count, Math.max(0, ...ref));
        for (let l = 1; l <= count; l++) assert.equal(sizes[l], ref.filter((x) => x === l).length);
      }
    }
  }
});

// ---------- voxel-for-voxel parity with scipy.ndimage / scikit-image ----------

test("parity with scipy.ndimage and skimage on random volumes", { skip: referenceSkip }, () => {
  const rand = rng(4);
  const tasks: Parameters<typeof runReference>[0] = [];
  const expect: ((r: ReturnType<typeof runReference>[number]) => void)[] = [];
  for (let kind = 0; kind < 4; kind++) {
    const v = randomHu(20000, rand, kind);
    tasks.push({ op: "otsu", data: v, shape: [1, 1, v.length] });
    expect.push((r) => assert.equal(otsuThreshold(v), r.json.threshold, `otsu kind ${kind}`));
  }
  const shape: Shape3 = [6, 21, 25];
  const n = shape[0] * shape[1] * shape[2];
  for (const [size, it] of SIZES) {
    for (const op of ["erode", "dilate", "open"] as const) {
      const m = randomMask(n, op === "dilate" ? 0.1 : 0.8, rand);
      tasks.push({ op, data: m, shape, size, iterations: it });
      const f = { erode: binaryErode, dilate: binaryDilate, open: binaryOpening }[op];
      expect.push((r) =>
        assert.deepEqual(f(m, shape, size, it), new Uint8Array(r.read()), `${op} ${size}x${it}`),
      );
    }
  }
  for (const c of [4, 8, 6, 18, 26] as Connectivity[]) {
    const m = randomMask(n, 0.45, rand);
    tasks.push({ op: "label", data: m, shape, connectivity: c });
    expect.push((r) => {
      const ref = new Int32Array(r.read().buffer.slice(0));
      assert.deepEqual(labelComponents(m, shape, c).labels, ref, `label conn=${c}`);
    });
  }
  const results = runReference(tasks);
  for (const [i, r] of results.entries()) expect[i](r);
});

test("bit-packed rows: box morphology and run extraction equal the byte primitives", () => {
  const rand = rng(5);
  const shapes: Shape3[] = [
    [3, 7, 31],
    [2, 9, 32],
    [4, 5, 70],
    [3, 11, 100],
  ];
  const sizes: Shape3[] = [
    [1, 9, 9],
    [17, 1, 17],
    [1, 17, 1],
    [3, 3, 65],
    [1, 1, 3],
  ];
  for (const shape of shapes) {
    const [nz, ny, nx] = shape;
    const W = wordsPerRow(nx);
    for (const size of sizes) {
      for (const erode of [true, false]) {
        for (const p of [0.3, 0.85]) {
          const m = randomMask(nz * ny * nx, p, rand);
          const ref = (erode ? binaryErode : binaryDilate)(m, shape, size, 1);
          const words = new Int32Array(nz * ny * W);
          for (let r = 0; r < nz * ny; r++)
            for (let x = 0; x < nx; x++) if (m[r * nx + x]) fillBits(words, r * W, x, x + 1, 1);
          morphRowsX(words, 0, nz * ny, nx, (size[2] - 1) / 2, erode);
          for (let z = 0; z < nz; z++)
            morphBlocks(words, z * ny * W, ny, W, (size[1] - 1) / 2, erode);
          morphBlocks(words, 0, nz, ny * W, (size[0] - 1) / 2, erode);
          const got = new Uint8Array(m.length);
          let ones = 0;
          for (let r = 0; r < nz * ny; r++) {
            rowRuns(words, r * W, W, (s, e) => got.fill(1, r * nx + s, r * nx + e));
            ones += countBits(words, r * W, 0, nx);
          }
          assert.deepEqual(got, ref, `${shape} ${size} ${erode ? "erode" : "dilate"}`);
          assert.equal(
            ones,
            ref.reduce((a, b) => a + b, 0),
          );
          assert.deepEqual(labelBitRuns(words, shape, 26).label, labelRuns(ref, shape, 26).label);
        }
      }
    }
  }
});
