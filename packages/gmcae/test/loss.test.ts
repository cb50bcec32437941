import assert from "node:assert/strict";
import { before, test } from "node:test";
import { initTf, tf } from "@lungflow/tf-runtime";
import { isLungflowError } from "@lungflow/volume";
import { gmmNll, gmmNllPerPatch, RunRng } from "../src/index.ts";

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});

/** Float64 reference of the per-patch NLL (same layout, same variance floor). */
function refNll(
  t: Float32Array,
  p: Float32Array,
  b: number,
  c: number,
  m: number,
  floor = 1e-6,
): number[] {
  const out: number[] = [];
  const w = m * (c + 2);
  for (let i = 0; i < b; i++) {
    const z: number[] = [];
    for (let k = 0; k < m; k++) {
      const logA = p[i * w + k];
      const s2 = Math.max(p[i * w + m + k], floor);
      let sq = 0;
      for (let v = 0; v < c; v++) {
        const dlt = t[i * c + v] - p[i * w + 2 * m + v * m + k];
        sq += dlt * dlt;
      }
      z.push(logA - (c / 2) * Math.log(2 * Math.PI * s2) - sq / (2 * s2));
    }
    const mx = Math.max(...z);
    out.push(-(mx + Math.log(z.reduce((s, x) => s + Math.exp(x - mx), 0))));
  }
  return out;
}

function randomCase(
  seed: number,
  b: number,
  c: number,
  m: number,
  varRange: [number, number],
  meanScale = 1,
) {
  const rng = new RunRng(seed);
  const t = Float32Array.from({ length: b * c }, () => rng.next() * 2 - 1);
  const p = new Float32Array(b * m * (c + 2));
  for (let i = 0; i < b; i++) {
    const o = i * m * (c + 2);
    const logits = Array.from({ length: m }, () => rng.next() * 4 - 2);
    const mx = Math.max(...logits);
    const lse = mx + Math.log(logits.reduce((s, x) => s + Math.exp(x - mx), 0));
    for (let k = 0; k < m; k++) {
      p[o + k] = logits[k] - lse;
      p[o + m + k] = varRange[0] * (varRange[1] / varRange[0]) ** rng.next();
    }
    for (let j = 0; j < c * m; j++) p[o + 2 * m + j] = (rng.next() * 2 - 1) * meanScale;
  }
  return { t, p };
}

test("matches a float64 reference on random inputs (relative error <= 1e-5)", () => {
  for (const [seed, b, c, m, vr] of [
    [1, 3, 50, 3, [0.05, 2]],
    [2, 2, 4096, 4, [0.01, 1]],
    [3, 4, 512, 2, [1e-4, 10]],
    [4, 2, 4096, 8, [1e-5, 1e-2]],
  ] as Array<[number, number, number, number, [number, number]]>) {
    const { t, p } = randomCase(seed, b, c, m, vr);
    const got = gmmNllPerPatch(
      tf.tensor2d(t, [b, c]),
      tf.tensor2d(p, [b, m * (c + 2)]),
      m,
    ).dataSync();
    const want = refNll(t, p, b, c, m);
    for (let i = 0; i < b; i++) {
      const rel = Math.abs(got[i] - want[i]) / Math.abs(want[i]);
      assert.ok(
        rel <= 1e-5,
        `case ${seed} patch ${i}: ${got[i]} vs float64 ${want[i]} (rel ${rel})`,
      );
    }
    const mean = gmmNll(tf.tensor2d(t, [b, c]), tf.tensor2d(p, [b, m * (c + 2)]), m).dataSync()[0];
    const wantMean = want.reduce((s, x) => s + x, 0) / b / c;
    assert.ok(Math.abs(mean - wantMean) / Math.abs(wantMean) <= 1e-5);
  }
});

test("extremes: tiny variances, huge variances, huge distances give finite values, never NaN", () => {
  const b = 2;
  const c = 4096;
  const m = 3;
  for (const [vr, meanScale] of [
    [[1e-30, 1e-20], 1],
    [[1e-38, 1e-37], 1e3],
    [[1e20, 1e30], 1],
    [[1e-6, 1e-6], 1e18], // squared distances overflow float32
    [[1e-10, 1e30], 1e10],
  ] as Array<[[number, number], number]>) {
    const { t, p } = randomCase(9, b, c, m, vr, meanScale);
    const yt = tf.tensor2d(t, [b, c]);
    const yp = tf.tensor2d(p, [b, m * (c + 2)]);
    const v = gmmNllPerPatch(yt, yp, m).dataSync();
    for (const x of v)
      assert.ok(Number.isFinite(x), `variances ${vr}, means x${meanScale}: NLL ${x}`);
    if (meanScale <= 1e3) {
      const g = tf
        .grad((q: tf.Tensor) => gmmNll(yt, q, m))(yp)
        .dataSync();
      assert.ok(
        g.every((x) => Number.isFinite(x)),
        `variances ${vr}: gradient not finite`,
      );
    }
  }
});

test("a component with the data as its mean and a small variance dominates (sanity of layout)", () => {
  // c = 2 voxels, m = 2: component 1 has mean = data exactly, component 0 is far away.
  const t = tf.tensor2d([[0.5, -0.5]]);
  const p = tf.tensor2d([[Math.log(0.5), Math.log(0.5), 0.01, 0.01, 9, 0.5, 9, -0.5]]);
  const nll = gmmNllPerPatch(t, p, 2).dataSync()[0];
  const expected = -(Math.log(0.5) - Math.log(2 * Math.PI * 0.01));
  assert.ok(Math.abs(nll - expected) < 1e-4, `${nll} vs ${expected}`);
});

test("predictions whose columns do not fit m components are a GmcaeError BAD_MODEL naming the sizes", () => {
  const t = tf.tensor2d([[0.5, -0.5]]);
  const p = tf.zeros([1, 7]); // m = 2, c = 2 needs 8
  assert.throws(
    () => gmmNllPerPatch(t, p, 2),
    (e) =>
      isLungflowError(e, "GmcaeError") &&
      e.code === "BAD_MODEL" &&
      e.context.columns === 7 &&
      e.context.expected === 8,
  );
  tf.dispose([t, p]);
});
