// Experiment: train classifier heads on cached encoder features of a cohort (dev only).
// usage: tsx tools/exp-heads.ts DIR K
import fs from "node:fs/promises";
import path from "node:path";
import { loadGmcae } from "@lungflow/gmcae";
import { openStore } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { applySymmetry, normalizeHu } from "@lungflow/volume";
import {
  binaryReport,
  buildFeatureHead,
  resolveCheckpoint,
  TiledEncoder,
  trainClassifier,
} from "../../packages/classifier/src/index.ts";

const [dir, kArg] = process.argv.slice(2);
const K = Number(kArg ?? 4);
await initTf({ backend: "cpu" });
const store = await openStore(path.join(dir, "store.zarr"));
const ids = await store.listPatients();
const holdText = await fs.readFile(path.join(dir, "holdout_labels.csv"), "utf8");
const hold = new Map(
  holdText
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(",") as [string, string])
    .map(([a, b]) => [a, Number(b)]),
);
const split = store.split!;
const labels = new Map<string, number>();
for (const id of ids) {
  const a = await store.getPatient(id);
  if (a?.label !== undefined) labels.set(id, a.label);
}
const gm = await loadGmcae(await resolveCheckpoint(path.join(dir, "gmcae")));
const tiler = new TiledEncoder(gm.encoder);
const featDir = path.join(dir, "feat");
await fs.mkdir(featDir, { recursive: true });
const SYMS = [0, 7, 19, 28, 33, 40, 45, 12];
type F = { data: Float32Array; shape: [number, number, number, number] };
const cache = new Map<string, F>();
const t0 = performance.now();
for (const id of ids) {
  let vol: { data: Float32Array; shape: [number, number, number] } | undefined;
  for (const k of SYMS.slice(0, K)) {
    const f = path.join(featDir, `${id}.s${k}.bin`);
    let feat: F;
    try {
      const buf = await fs.readFile(f);
      const shape = JSON.parse(await fs.readFile(`${f}.json`, "utf8"));
      feat = { data: new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4), shape };
    } catch {
      if (!vol) {
        const hu = await store.readVolume(id, "hu");
        vol = { data: normalizeHu(hu.data), shape: [...hu.shape] as [number, number, number] };
      }
      const s = applySymmetry(vol.data, vol.shape, k);
      feat = await tiler.encode(s.data, s.shape, { tile: 8 });
      await fs.writeFile(f, Buffer.from(feat.data.buffer));
      await fs.writeFile(`${f}.json`, JSON.stringify(feat.shape));
    }
    cache.set(`${id}.${k}`, feat);
    if (process.env.MASK) {
      const m = await store.readVolume(id, "mask");
      const filled = fillSlices(m.data as Uint8Array, m.shape as [number, number, number]);
      const ms = applySymmetry(filled, m.shape, k);
      const frac = blockMean(ms.data, ms.shape, feat.shape);
      const thr = Number(process.env.MASK);
      const c = feat.shape[3];
      const d = new Float32Array(feat.data.length);
      for (let i = 0; i < frac.length; i++) {
        const w = thr > 0 ? (frac[i] >= thr ? 1 : 0) : frac[i];
        for (let j = 0; j < c; j++) d[i * c + j] = feat.data[i * c + j] * w;
      }
      cache.set(`${id}.${k}`, { data: d, shape: feat.shape });
    }
  }
}
function fillSlices(m: Uint8Array, [nz, ny, nx]: [number, number, number]): Uint8Array {
  const out = new Uint8Array(m.length).fill(1);
  const stack: number[] = [];
  for (let z = 0; z < nz; z++) {
    const o = z * ny * nx;
    const seen = new Uint8Array(ny * nx);
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++)
        if ((y === 0 || x === 0 || y === ny - 1 || x === nx - 1) && !m[o + y * nx + x]) {
          seen[y * nx + x] = 1;
          stack.push(y * nx + x);
        }
    while (stack.length) {
      const i = stack.pop()!;
      out[o + i] = 0;
      const y = (i / nx) | 0;
      const x = i % nx;
      for (const [dy, dx] of [
        [1, 0],
        [-1, 0],
        [0, 1],
        [0, -1],
      ]) {
        const yy = y + dy;
        const xx = x + dx;
        if (yy < 0 || xx < 0 || yy >= ny || xx >= nx) continue;
        const j = yy * nx + xx;
        if (!seen[j] && !m[o + j]) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
  }
  return out;
}
function blockMean(m: Uint8Array, shape: number[], fs: number[]): Float32Array {
  const out = new Float32Array(fs[0] * fs[1] * fs[2]);
  const cnt = new Float32Array(out.length);
  const [nz, ny, nx] = shape;
  for (let z = 0; z < nz; z++) {
    const fz = Math.min(fs[0] - 1, Math.floor((z * fs[0]) / nz));
    for (let y = 0; y < ny; y++) {
      const fy = Math.min(fs[1] - 1, Math.floor((y * fs[1]) / ny));
      for (let x = 0; x < nx; x++) {
        const fx = Math.min(fs[2] - 1, Math.floor((x * fs[2]) / nx));
        const i = (fz * fs[1] + fy) * fs[2] + fx;
        out[i] += m[(z * ny + y) * nx + x];
        cnt[i]++;
      }
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= Math.max(1, cnt[i]);
  return out;
}
if (process.env.STD) {
  // per-channel standardisation fitted on the training patients' features (all symmetries)
  const c = 16;
  const sum = new Float64Array(c);
  const sq = new Float64Array(c);
  let cnt = 0;
  for (const id of split.train)
    for (const k of SYMS.slice(0, K)) {
      const f = cache.get(`${id}.${k}`)!;
      for (let i = 0; i < f.data.length; i++) {
        sum[i % c] += f.data[i];
        sq[i % c] += f.data[i] * f.data[i];
      }
      cnt += f.data.length / c;
    }
  const mu = Array.from(sum, (s) => s / cnt);
  const sd = Array.from(sq, (s, j) => Math.sqrt(Math.max(s / cnt - mu[j] * mu[j], 0)) + 1e-3);
  for (const [key, f] of cache) {
    const d = new Float32Array(f.data.length);
    for (let i = 0; i < d.length; i++) d[i] = (f.data[i] - mu[i % c]) / sd[i % c];
    cache.set(key, { data: d, shape: f.shape });
  }
}
console.log(`features: ${ids.length} x ${K} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

function* source(list: string[], epoch: number, augment: boolean, seed: number) {
  let r = (seed * 7919 + epoch * 104729) >>> 0;
  const rnd = () => {
    r = (r * 1664525 + 1013904223) >>> 0;
    return r / 2 ** 32;
  };
  const order = augment ? [...list].sort(() => rnd() - 0.5) : list;
  for (const id of order) {
    const k = augment ? SYMS[Math.floor(rnd() * K)] : 0;
    const f = cache.get(`${id}.${k}`)!;
    yield {
      id,
      xs: tf.tensor5d(f.data, [1, ...f.shape]),
      ys: tf.tensor2d([labels.get(id) ?? hold.get(id) ?? -1], [1, 1]),
    };
  }
}

function predict(model: tf.LayersModel, list: string[], tta: number) {
  return list.map((id) => {
    let s = 0;
    for (const k of SYMS.slice(0, tta)) {
      const f = cache.get(`${id}.${k}`)!;
      s += tf.tidy(
        () => (model.predict(tf.tensor5d(f.data, [1, ...f.shape])) as tf.Tensor).dataSync()[0],
      );
    }
    return s / tta;
  });
}

const variants: Record<
  string,
  { head: object; lr: number; epochs: number; batch?: number; cw?: [number, number] }
> = JSON.parse(
  process.env.VARIANTS ?? '{"kdsb":{"head":{"dense":[16],"dropout":0.3},"lr":3e-4,"epochs":20}}',
);
const holdIds = [...hold.keys()];
for (const [name, v] of Object.entries(variants)) {
  for (const seed of [1, 2]) {
    const model = buildFeatureHead(gm.encoder.outputs[0].shape[4] as number, { ...v.head, seed });
    const out = `/tmp/exp/runs/${path.basename(dir)}-${name}-${seed}`;
    await fs.rm(out, { recursive: true, force: true });
    const t1 = performance.now();
    const res = await trainClassifier({
      model,
      outDir: out,
      epochs: v.epochs,
      learningRate: v.lr,
      classWeight: v.cw ?? [1, 1],
      batchSize: v.batch ?? 1,
      patience: v.epochs,
      train: (e) => source(split.train, e, true, seed),
      validation: () => source(split.validation, 0, false, seed),
    });
    const tl = res.epochs.map((e) => e.trainLoss.toFixed(3)).join(" ");
    const va = res.epochs.map((e) => e.valAuc.toFixed(2)).join(" ");
    const best = await (await import("@lungflow/tf-runtime")).loadModel(path.join(out, "best"));
    const p1 = predict(best, holdIds, 1);
    const pK = predict(best, holdIds, K);
    const y = holdIds.map((id) => hold.get(id)!);
    const r1 = binaryReport(y, p1);
    const rK = binaryReport(y, pK);
    console.log(
      `${name} seed ${seed}: best epoch ${res.bestEpoch}, held-out AUC ${r1.auc.toFixed(3)} (tta ${K}: ${rK.auc.toFixed(3)}) logloss ${r1.logLoss.toFixed(3)} acc ${r1.accuracy.toFixed(2)}; ${((performance.now() - t1) / 1000).toFixed(1)} s\n  train ${tl}\n  valAUC ${va}`,
    );
  }
}
