/**
 * Every fast `cpu` kernel against tfjs's own kernel on the same inputs: random values (with
 * NaN, ±Infinity, ±0 and ties mixed in), over grids of shapes with broadcasting, odd sizes,
 * size-1 axes, every reduction axis set, slices/pads/splits/concats on every axis.
 * Results must be identical (same shape, dtype, and every value `Object.is`-equal, NaN = NaN).
 */
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { nativeElementwise } from "@lungflow/tfjs-conv3d-native";
import {
  fastCpuKernelNames,
  fastKernels,
  registerFastCpuKernels,
  setNativeElementwise,
  setNativeMinSize,
  unregisterFastCpuKernels,
} from "../src/fast-kernels/index.ts";
import { initTf, tf } from "../src/index.ts";

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});

/** sfc32-like small PRNG (seeded). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

const SPECIAL = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -0, 1, -1, 0.5];

/** Random float32 values in [-3, 3), ~10% special values when `specials`. */
function values(n: number, r: () => number, specials: boolean, positive = false): Float32Array {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (specials && r() < 0.1) v[i] = SPECIAL[Math.floor(r() * SPECIAL.length)];
    else v[i] = positive ? r() * 3 : (r() - 0.5) * 6;
    // Coarse values make ties (max/min/equal) common.
    if (r() < 0.2) v[i] = Math.round(v[i]);
  }
  if (specials) {
    // NaNs with the sign bit set (what x86 arithmetic produces) and non-canonical payloads.
    const bits = new Int32Array(v.buffer);
    for (let i = 0; i < n; i++) {
      const u = r();
      if (u < 0.02) bits[i] = 0xffc00000 | 0;
      else if (u < 0.03) bits[i] = 0xff800001 | 0;
      else if (u < 0.04) bits[i] = 0x7f800123;
    }
  }
  return v;
}

type Out = { shape: number[]; dtype: string; v: number[] };

function run(name: string, inputs: tf.Tensor[] | Record<string, tf.Tensor>, attrs: object): Out[] {
  const r = tf.engine().runKernel(name, inputs as never, attrs as never) as tf.Tensor | tf.Tensor[];
  const list = Array.isArray(r) ? r : [r];
  const out = list.map((t) => ({ shape: t.shape, dtype: t.dtype, v: Array.from(t.dataSync()) }));
  tf.dispose(list);
  return out;
}

const seen = new Set<string>();
/** Cases each fast kernel computed itself (not handed to tfjs's). */
const handled = new Map<string, number>();

function fastHandles(
  name: string,
  inputs: tf.Tensor[] | Record<string, tf.Tensor>,
  attrs: object,
): boolean {
  const info = (t: tf.Tensor) => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
  const ins = Array.isArray(inputs)
    ? inputs.map(info)
    : Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, info(t)]));
  const be = tf.backend() as unknown as { disposeIntermediateTensorInfo(t: unknown): void };
  let res: unknown;
  try {
    res = fastKernels()[name]({ inputs: ins, backend: be as never, attrs: attrs as never });
  } catch {
    return false;
  }
  if (res === undefined) return false;
  for (const t of Array.isArray(res) ? res : [res]) be.disposeIntermediateTensorInfo(t);
  return true;
}

/** Runs kernel `name` with tfjs's kernel and with the fast one; asserts identical results. */
function same(
  name: string,
  inputs: tf.Tensor[] | Record<string, tf.Tensor>,
  attrs: object = {},
): void {
  seen.add(name);
  unregisterFastCpuKernels();
  let ref: Out[] | Error;
  try {
    ref = run(name, inputs, attrs);
  } catch (e) {
    ref = e as Error;
  } finally {
    registerFastCpuKernels();
  }
  const shapes = (Array.isArray(inputs) ? inputs : Object.values(inputs)).map(
    (t) => `[${t.shape}]`,
  );
  const what = `${name} ${shapes.join(" ")} ${JSON.stringify(attrs)}`;
  if (ref instanceof Error) {
    assert.throws(() => run(name, inputs, attrs), Error, `${what}: tfjs throws, fast must too`);
    return;
  }
  const refs: Out[] = ref;
  const fast = run(name, inputs, attrs);
  if (fastHandles(name, inputs, attrs)) handled.set(name, (handled.get(name) ?? 0) + 1);
  assert.equal(fast.length, refs.length, what);
  fast.forEach((f, k) => {
    assert.deepEqual(f.shape, refs[k].shape, `${what}: shape`);
    assert.equal(f.dtype, refs[k].dtype, `${what}: dtype`);
    assert.equal(f.v.length, refs[k].v.length, `${what}: size`);
    for (let i = 0; i < f.v.length; i++) {
      const a: number = f.v[i];
      const b: number = refs[k].v[i];
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) {
        assert.fail(`${what}: output ${k}[${i}] = ${a}, tfjs ${b}`);
      }
    }
  });
}

const r = rng(12345);
const T = (shape: number[], specials = true, positive = false) =>
  tf.tensor(
    values(
      shape.reduce((a, b) => a * b, 1),
      r,
      specials,
      positive,
    ),
    shape,
    "float32",
  );

const BROADCAST_PAIRS: Array<[number[], number[]]> = [
  [[7], [7]],
  [
    [3, 5],
    [3, 5],
  ],
  [
    [2, 3, 4, 5, 6],
    [2, 3, 4, 5, 6],
  ],
  [[], []],
  [[], [3, 5]],
  [[3, 5], []],
  [[1], [9]],
  [[2, 3, 4, 5, 6], [6]],
  [[6], [2, 3, 4, 5, 6]],
  [
    [2, 3, 4, 5, 6],
    [1, 1, 1, 1, 6],
  ],
  [
    [4, 33, 1],
    [4, 33, 4],
  ],
  [
    [4, 1, 4],
    [4, 33, 4],
  ],
  [
    [4, 33, 4],
    [4, 1, 4],
  ],
  [
    [2, 1, 3, 1],
    [1, 5, 1, 7],
  ],
  [
    [5, 1],
    [1, 7],
  ],
  [
    [3, 1, 1],
    [3, 4, 5],
  ],
  [
    [1, 1, 1],
    [1, 1, 1],
  ],
  [
    [2, 3, 1, 5, 1, 7],
    [3, 4, 1, 1, 7],
  ],
  [
    [1, 9, 1],
    [9, 1],
  ],
  [[0, 3], [3]],
  [
    [3, 4],
    [5, 4],
  ],
];

const BINARY = [
  "Add",
  "Sub",
  "Multiply",
  "RealDiv",
  "Maximum",
  "Minimum",
  "SquaredDifference",
  "Equal",
  "NotEqual",
  "Greater",
  "GreaterEqual",
  "Less",
  "LessEqual",
];

test("binary element-wise kernels equal tfjs's (broadcasting, odd sizes, NaN/Inf/-0)", () => {
  for (const [sa, sb] of BROADCAST_PAIRS) {
    const a = T(sa);
    const b = T(sb);
    for (const name of BINARY) same(name, { a, b });
    tf.dispose([a, b]);
  }
  // float32 tensors cast from bool / int32 keep tfjs's Uint8Array / Int32Array values.
  const mask = tf.cast(tf.tensor([1, 0, 1, 1, 0, 0], [2, 3], "bool"), "float32");
  const big = tf.cast(tf.tensor([16777217, -3, 2 ** 30, 7, 0, 1], [2, 3], "int32"), "float32");
  const small = tf.cast(tf.tensor([5, -3, 1, 7, 0, 1], [2, 3], "int32"), "float32");
  const f = T([2, 3]);
  const bias = T([3]);
  for (const name of ["Multiply", "Add", "RealDiv", "Equal"]) {
    for (const [a, b] of [
      [f, mask],
      [mask, bias],
      [f, big],
      [small, f],
      [big, bias],
    ]) {
      same(name, { a, b });
    }
  }
  for (const x of [mask, big, small]) {
    same("Relu", { x });
    same("Exp", { x });
    same("Sum", { x }, { axis: [0], keepDims: false });
    same("Max", { x }, { reductionIndices: [1], keepDims: false });
  }
  tf.dispose([mask, big, small, f, bias]);
  // Mixed dtypes and int32 go to tfjs's kernel.
  const i = tf.tensor([1, 2, 3], [3], "int32");
  const j = tf.tensor([3, 2, 1], [3], "int32");
  for (const name of ["Add", "Multiply", "Equal", "Maximum"]) same(name, { a: i, b: j });
  tf.dispose([i, j]);
});

const UNARY = [
  "Relu",
  "Relu6",
  "Step",
  "Exp",
  "Log",
  "Log1p",
  "Neg",
  "Sqrt",
  "Square",
  "Rsqrt",
  "Reciprocal",
  "Sigmoid",
  "Tanh",
  "Elu",
];

test("unary element-wise kernels equal tfjs's (NaN, ±Infinity, ±0, negative logs)", () => {
  for (const shape of [[], [1], [7], [3, 5], [2, 3, 4, 5, 6], [0, 4], [4, 16, 16, 16, 8]]) {
    const x = T(shape);
    const pos = T(shape, false, true);
    for (const name of UNARY) {
      same(name, { x });
      same(name, { x: pos });
    }
    for (const alpha of [0, 0.2, -1.5]) same("Step", { x }, { alpha });
    same("Step", { x }, {}); // alpha absent: NaN where x <= 0 (as tfjs)
    tf.dispose([x, pos]);
  }
  // Denormals and the float32 extremes.
  const edge = tf.tensor([1e-45, -1e-45, 3.4e38, -3.4e38, 1e-38, -1e-38, 88.7, -103.9]);
  for (const name of UNARY) same(name, { x: edge });
  edge.dispose();
  const ints = tf.tensor([-2, 0, 3], [3], "int32");
  for (const name of ["Relu", "Neg", "Step"]) same(name, { x: ints });
  ints.dispose();
});

function subsets(r: number): number[][] {
  const out: number[][] = [];
  for (let m = 1; m < 1 << r; m++) out.push([...Array(r).keys()].filter((i) => m & (1 << i)));
  return out;
}

test("reductions (Sum, Mean, Max, Min) equal tfjs's over every axis set", () => {
  const shapes = [[7], [3, 5], [2, 3, 1, 5], [2, 3, 4, 5, 6], [4, 131, 4], [1, 9, 1, 8]];
  for (const shape of shapes) {
    const x = T(shape);
    const clean = T(shape, false);
    for (const axes of subsets(shape.length)) {
      for (const keepDims of [false, true]) {
        for (const t of [x, clean]) {
          same("Sum", { x: t }, { axis: axes, keepDims });
          same("Mean", { x: t }, { axis: axes, keepDims });
          same("Max", { x: t }, { reductionIndices: axes, keepDims });
          same("Min", { x: t }, { axis: axes, keepDims });
        }
      }
    }
    // Negative, single and absent axes.
    same("Sum", { x: clean }, { axis: -1, keepDims: false });
    same("Max", { x }, { reductionIndices: 0, keepDims: true });
    same("Mean", { x: clean }, { axis: null, keepDims: false });
    same("Sum", { x: clean }, { axis: [], keepDims: false });
    tf.dispose([x, clean]);
  }
  // Long sums (float64 accumulation in the same order as tfjs: bit-identical).
  const big = T([3, 20000, 5], false);
  same("Sum", { x: big }, { axis: [1], keepDims: false });
  same("Sum", { x: big }, { axis: [0, 1], keepDims: false });
  same("Mean", { x: big }, { axis: [0, 2], keepDims: true });
  big.dispose();
  const ints = tf.tensor(
    [
      [1, 2],
      [3, 4],
    ],
    [2, 2],
    "int32",
  );
  same("Sum", { x: ints }, { axis: [0], keepDims: false });
  same("Max", { x: ints }, { reductionIndices: [1], keepDims: false });
  ints.dispose();
});

function randInt(lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

const DTYPES = ["float32", "int32", "bool"] as const;
function typed(shape: number[], dtype: (typeof DTYPES)[number]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === "float32") return T(shape);
  const v = Array.from({ length: n }, () => (dtype === "bool" ? randInt(0, 1) : randInt(-50, 50)));
  return tf.tensor(v, shape, dtype);
}

test("Slice equals tfjs's (random boxes, -1 sizes, contiguous and strided, 3 dtypes)", () => {
  const shapes = [[9], [4, 131], [2, 3, 4, 5, 6], [1, 18, 14, 23, 8], [3, 1, 7, 2]];
  for (const dtype of DTYPES) {
    for (const shape of shapes) {
      const x = typed(shape, dtype);
      for (let k = 0; k < 12; k++) {
        const begin = shape.map((d) => randInt(0, d - 1));
        const size = shape.map((d, i) => (r() < 0.15 ? -1 : randInt(1, d - begin[i])));
        same("Slice", { x }, { begin, size });
      }
      // Whole trailing axes (one run per outer index), a contiguous block, everything.
      same("Slice", { x }, { begin: shape.map((_, i) => (i === 0 ? 0 : 0)), size: shape });
      same("Slice", { x }, { begin: [shape[0] - 1], size: [1] });
      same(
        "Slice",
        { x },
        { begin: shape.map((d, i) => (i === shape.length - 1 ? 1 % d : 0)), size: -1 },
      );
      x.dispose();
    }
  }
  // The GMCAE's split of its output: [B, 2m + c*m] cut at columns 8.
  const y = T([4, 8 + 4096]);
  same("Slice", { x: y }, { begin: [0, 8], size: [4, 4096] });
  same("Slice", { x: y }, { begin: [0, 4], size: [4, 4] });
  y.dispose();
});

test("SplitV equals tfjs's (every axis, sizes with -1, equal splits)", () => {
  for (const dtype of DTYPES) {
    for (const shape of [[10], [4, 131], [2, 6, 5, 3]]) {
      const x = typed(shape, dtype);
      for (let axis = -shape.length; axis < shape.length; axis++) {
        const len = shape[axis < 0 ? axis + shape.length : axis];
        const a = randInt(1, len);
        const sizes = a < len ? [a, -1] : [a];
        same("SplitV", { x }, { numOrSizeSplits: sizes, axis });
        if (len % 2 === 0) same("SplitV", { x }, { numOrSizeSplits: 2, axis });
        same("SplitV", { x }, { numOrSizeSplits: 1, axis });
      }
      x.dispose();
    }
  }
  const g = T([4, 4 + 4 + 4096]);
  same("SplitV", { x: g }, { numOrSizeSplits: [4, 4, 4096], axis: 1 });
  g.dispose();
});

test("PadV2 equals tfjs's (random paddings per axis, constant values, 3 dtypes)", () => {
  for (const dtype of DTYPES) {
    for (const shape of [[5], [3, 7], [2, 3, 4, 5, 2], [1, 5, 4, 6, 8]]) {
      const x = typed(shape, dtype);
      for (let k = 0; k < 8; k++) {
        const paddings = shape.map(() => [
          r() < 0.4 ? 0 : randInt(0, 3),
          r() < 0.4 ? 0 : randInt(0, 3),
        ]);
        same("PadV2", { x }, { paddings, constantValue: 0 });
        same("PadV2", { x }, { paddings, constantValue: dtype === "float32" ? 1.5 : 1 });
      }
      same("PadV2", { x }, { paddings: shape.map(() => [0, 0]), constantValue: 0 });
      x.dispose();
    }
  }
});

test("Concat equals tfjs's (every axis, 2-5 inputs of different lengths, 3 dtypes)", () => {
  for (const dtype of DTYPES) {
    for (const shape of [[5], [3, 7], [2, 3, 4, 5], [1, 2, 1, 3, 8]]) {
      for (let axis = -shape.length; axis < shape.length; axis++) {
        const ax = axis < 0 ? axis + shape.length : axis;
        const n = randInt(2, 5);
        const xs = Array.from({ length: n }, () =>
          typed(
            shape.map((d, i) => (i === ax ? randInt(1, 4) : d)),
            dtype,
          ),
        );
        same("Concat", xs, { axis });
        tf.dispose(xs);
      }
    }
  }
  // The GMCAE's output: [B, m], [B, m], [B, c*m] on axis -1; and a long single row.
  const parts = [T([4, 4]), T([4, 4]), T([4, 4096])];
  same("Concat", parts, { axis: -1 });
  tf.dispose(parts);
  const rows = [T([1, 300]), T([1, 5]), T([1, 77])];
  same("Concat", rows, { axis: 1 });
  tf.dispose(rows);
});

test("native (threaded) Add/Sub/Multiply/RealDiv/Relu/Step/Sqrt/Neg/Square equal tfjs's; bad plans are refused", (t) => {
  const native = nativeElementwise();
  if (!native) {
    t.skip("the tfjs-conv3d-native addon is not built");
    return;
  }
  let calls = 0;
  let unaryCalls = 0;
  setNativeElementwise({
    binary: (...args) => {
      calls++;
      native.binary(...args);
    },
    unary: (...args) => {
      unaryCalls++;
      native.unary(...args);
    },
  });
  setNativeMinSize(1);
  try {
    const pairs: Array<[number[], number[]]> = [
      ...BROADCAST_PAIRS,
      [[4, 16, 16, 16, 8], [8]],
      [[3, 3, 3, 16, 129], []],
      [[70001], [70001]],
      [[1], [70001]],
      [
        [2, 40000],
        [2, 1],
      ],
    ];
    for (const [sa, sb] of pairs) {
      const a = T(sa);
      const b = T(sb);
      for (const name of ["Add", "Sub", "Multiply", "RealDiv"]) same(name, { a, b });
      tf.dispose([a, b]);
    }
    assert.ok(calls > 60, `native path taken ${calls} times`);
    for (const shape of [[7], [3, 5], [2, 3, 4, 5, 6], [70001]]) {
      const x = T(shape);
      for (const name of ["Relu", "Step", "Sqrt", "Neg", "Square"]) same(name, { x });
      for (const alpha of [0, 0.2, -1.5]) same("Step", { x }, { alpha });
      same("Step", { x }, {});
      x.dispose();
    }
    const edge = tf.tensor([1e-45, -1e-45, 3.4e38, -3.4e38, 1e-38, -1e-38]);
    for (const name of ["Relu", "Step", "Sqrt", "Neg", "Square"]) same(name, { x: edge });
    edge.dispose();
    assert.ok(unaryCalls > 20, `native unary path taken ${unaryCalls} times`);
    const f = (n: number) => new Float32Array(n);
    const bin = native.binary;
    assert.throws(() => bin(2, f(10), f(10), f(11), Int32Array.of(1, 11, 0, 1, 0, 1)));
    assert.throws(() => bin(2, f(10), f(1), f(20), Int32Array.of(2, 10, 10, 1, 0, 0)));
    assert.throws(() => bin(7, f(1), f(1), f(1), Int32Array.of(1, 1, 0, 1, 0, 1)));
    assert.throws(() => bin(0, f(4), f(4), f(4), Int32Array.of(2, 2, 2, 2, 0, 1)));
    assert.throws(() => native.unary(0, f(4), f(5), 0));
    assert.throws(() => native.unary(9, f(4), f(4), 0));
  } finally {
    setNativeMinSize(32768);
    setNativeElementwise(native);
  }
});

test("BatchMatMul and _FusedMatMul (native) equal tfjs's: transposes, batch broadcasting, k past the block size", () => {
  // [a shape, b shape, transposeA, transposeB]; k = 1, 47, 48, 49, 130, 1024 (blocks of 48).
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[4, 1024], [1024, 128], false, false],
    [[4, 128], [1024, 128], false, true],
    [[4, 1024], [4, 128], true, false],
    [[3, 49], [17, 49], false, true],
    [[2, 5, 130], [2, 130, 7], false, false],
    [[2, 5, 130], [130, 7], false, false],
    [[1, 48, 5], [3, 48, 300], true, false],
    [[6, 1], [1, 9], false, false],
    [[2, 47, 3], [2, 5, 47], true, true],
  ];
  for (const [sa, sb, transposeA, transposeB] of cases) {
    const a = T(sa);
    const b = T(sb);
    same("BatchMatMul", { a, b }, { transposeA, transposeB });
    if (sa.length === 2 && sb.length === 2) {
      const n = transposeB ? sb[0] : sb[1];
      const bias = T([n]);
      for (const activation of ["linear", "relu"])
        same("_FusedMatMul", { a, b, bias }, { transposeA, transposeB, activation });
      same("_FusedMatMul", { a, b }, { transposeA, transposeB, activation: "relu" });
      same("_FusedMatMul", { a, b }, { transposeA, transposeB });
      bias.dispose();
    }
    tf.dispose([a, b]);
  }
  const a = T([3, 4]);
  const b = T([5, 6]);
  same("BatchMatMul", { a, b }, { transposeA: false, transposeB: false }); // inner sizes differ
  tf.dispose([a, b]);
});

test("every registered fast kernel was compared here", () => {
  for (const name of fastCpuKernelNames()) {
    assert.ok(seen.has(name), `${name} not tested`);
    assert.ok(
      (handled.get(name) ?? 0) >= 5,
      `${name}: only ${handled.get(name) ?? 0} cases took the fast path`,
    );
  }
});

test("a training step's loss and gradients are bit-identical with and without the fast kernels", () => {
  const w1 = tf.variable(tf.randomUniform([3, 3, 3, 1, 4], -0.5, 0.5, "float32", 1));
  const b1 = tf.variable(tf.randomUniform([4], -0.1, 0.1, "float32", 2));
  const w2 = tf.variable(tf.randomUniform([64, 6], -0.3, 0.3, "float32", 3));
  const x = tf.randomUniform([2, 6, 5, 4, 1], -1, 1, "float32", 4);
  const loss = () =>
    tf.tidy(() => {
      const h = tf.relu(tf.add(tf.conv3d(x as tf.Tensor5D, w1 as tf.Tensor5D, 2, "same"), b1));
      const flat = tf.reshape(h, [2, 3 * 3 * 2 * 4]);
      const y = tf.matMul(tf.slice(flat, [0, 8], [2, 64]), w2);
      const [p, q] = tf.split(y, [2, 4], 1);
      const z = tf.concat([tf.exp(tf.minimum(p, 0)), tf.sigmoid(q)], 1);
      return tf.mean(tf.sub(tf.logSumExp(z, 1), tf.max(z, 1))) as tf.Scalar;
    });
  const step = () => {
    const { value, grads } = tf.variableGrads(loss);
    const out = [value, ...Object.values(grads)].map((t) => Array.from(t.dataSync()));
    tf.dispose([value, grads]);
    return out;
  };
  unregisterFastCpuKernels();
  const ref = step();
  registerFastCpuKernels();
  const fast = step();
  assert.deepEqual(fast, ref);
  tf.dispose([w1, b1, w2, x]);
});
