// dev: which encoder level / pooled statistic carries the label? (AUC over all patients)
import fs from "node:fs/promises";
import path from "node:path";
import { loadGmcae } from "@lungflow/gmcae";
import { openStore } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { normalizeHu } from "@lungflow/volume";
import { resolveCheckpoint, rocAuc, TiledEncoder } from "../../packages/classifier/src/index.ts";

const dir = process.argv[2];
await initTf({ backend: "cpu", quiet: true });
const store = await openStore(path.join(dir, "store.zarr"));
const labels = new Map(
  (await fs.readFile(path.join(dir, "dicom/stage1_labels.csv"), "utf8"))
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","))
    .map(([a, b]) => [a, Number(b)] as const),
);
const gm = await loadGmcae(await resolveCheckpoint(path.join(dir, "gmcae")));
const levels = [0, 1, 2].map((L) => {
  const out = gm.model.getLayer(process.env.PRE ? `enc_${L}_conv_b` : `enc_${L}_relu_b`)
    .output as tf.SymbolicTensor;
  return new TiledEncoder(tf.model({ inputs: gm.encoder.inputs, outputs: out }));
});
function fillSlices(m: Uint8Array, [nz, ny, nx]: number[]): Uint8Array {
  const out = new Uint8Array(m.length).fill(1);
  for (let z = 0; z < nz; z++) {
    const o = z * ny * nx;
    const seen = new Uint8Array(ny * nx);
    const st: number[] = [];
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        if ((y === 0 || x === 0 || y === ny - 1 || x === nx - 1) && !m[o + y * nx + x]) {
          seen[y * nx + x] = 1;
          st.push(y * nx + x);
        }
    while (st.length) {
      const i = st.pop()!;
      out[o + i] = 0;
      const y = (i / nx) | 0,
        x = i % nx;
      for (const [dy, dx] of [
        [1, 0],
        [-1, 0],
        [0, 1],
        [0, -1],
      ]) {
        const yy = y + dy,
          xx = x + dx;
        if (yy < 0 || xx < 0 || yy >= ny || xx >= nx) continue;
        const j = yy * nx + xx;
        if (!seen[j] && !m[o + j]) {
          seen[j] = 1;
          st.push(j);
        }
      }
    }
  }
  return out;
}
const ids = await store.listPatients();
const stats: Record<string, number[]> = {};
const ys: number[] = [];
for (const id of ids) {
  const hu = await store.readVolume(id, "hu");
  const m = await store.readVolume(id, "mask");
  const filled = fillSlices(m.data as Uint8Array, m.shape);
  const v = normalizeHu(hu.data);
  ys.push(labels.get(id)!);
  // input-level: largest dense blob proxy = count of soft-tissue voxels inside filled mask but not tight mask
  let dense = 0;
  for (let i = 0; i < v.length; i++)
    if (filled[i] && !(m.data as Uint8Array)[i] && hu.data[i] > -300) dense++;
  (stats["input:denseInFilled"] ??= []).push(dense);
  for (const [L, t] of levels.entries()) {
    const f = await t.encode(v, hu.shape as [number, number, number]);
    const [fz, fy, fx, c] = f.shape;
    const [nz, ny, nx] = hu.shape;
    const s = t.geometry.stride[0];
    // region at feature res: block fraction of filled mask >= 0.5
    const frac = new Float32Array(fz * fy * fx);
    const cnt = new Float32Array(fz * fy * fx);
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const i =
            (Math.min(fz - 1, (z / s) | 0) * fy + Math.min(fy - 1, (y / s) | 0)) * fx +
            Math.min(fx - 1, (x / s) | 0);
          frac[i] += filled[(z * ny + y) * nx + x];
          cnt[i]++;
        }
    for (let ch = 0; ch < c; ch++) {
      const vals: number[] = [];
      const all: number[] = [];
      for (let i = 0; i < frac.length; i++) {
        all.push(f.data[i * c + ch]);
        if (frac[i] / cnt[i] >= 0.5) vals.push(f.data[i * c + ch]);
      }
      vals.sort((a, b) => b - a);
      all.sort((a, b) => b - a);
      const top = (arr: number[], k: number) =>
        arr.slice(0, k).reduce((a, b) => a + b, 0) / Math.max(1, Math.min(k, arr.length));
      const kk = [1, 4, 16, 64].map((k) => Math.max(1, Math.round((k / s ** 3) * 8)));
      (stats[`L${L}c${ch}:max-region`] ??= []).push(vals[0] ?? 0);
      (stats[`L${L}c${ch}:max-all`] ??= []).push(all[0]);
      for (const k of [2, 8, 32, 128])
        (stats[`L${L}c${ch}:top${k}-region`] ??= []).push(top(vals, k));
      (stats[`L${L}c${ch}:mean-region`] ??= []).push(top(vals, vals.length));
      const neg = vals.map((q) => -q).sort((a, b) => b - a);
      for (const k of [2, 8, 32]) (stats[`L${L}c${ch}:ntop${k}-region`] ??= []).push(top(neg, k));
    }
  }
  process.stderr.write(".");
}
const res = Object.entries(stats)
  .map(([k, x]) => [k, rocAuc(ys, x)] as const)
  .map(([k, a]) => [k, Math.max(a, 1 - a), a] as const);
res.sort((a, b) => b[1] - a[1]);
for (const [k, a, raw] of res.slice(0, 25)) console.log(k, a.toFixed(3), raw > 0.5 ? "+" : "-");
