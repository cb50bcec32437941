/**
 * Classifier speed: seconds per patient for a training step (forward + backward + Adam) and
 * for prediction, on whole lung volumes of a typical cropped size, with the demo's small
 * encoder (filters 4-8-16) and with the seed's (64-128-256, one step), on the available
 * backend. Reports wall and CPU seconds (the machine may be shared).
 * `pnpm bench classifier [--quick]`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  buildClassifier,
  buildFeatureHead,
  buildPooledHead,
  clipByGlobalNorm,
  DEFAULT_HEAD,
  densityMap,
  KDSB17_HEAD,
  type LabelledVolume,
  spatialPyramidPool3d,
  TiledEncoder,
  trainClassifier,
} from "@lungflow/classifier";
import { buildGmcae } from "@lungflow/gmcae";
import { openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { makeVolume, mulberry32 } from "@lungflow/volume";
import { type BenchResult, peakRssMiB, quick, report } from "./lib.ts";

const info = await initTf();
const results: BenchResult[] = [];

// --- Stored-feature path at DSB size: `lungflow features` on a whole full-size lung with
// kdsb17's encoder (64-128-256), then head training on such stored features.
{
  // A 512x512x300 scan at 0.7 x 0.7 x 1.0 mm is 358 x 358 x 300 mm; its cropped lungs at 1 mm
  // are about 300 x 250 x 330 voxels (z, y, x). Values: uniform in the network range (the
  // kernels' time does not depend on them). --quick: a quarter of the volume.
  const shape: [number, number, number] = quick ? [150, 125, 165] : [300, 250, 330];
  const filters = [64, 128, 256];
  const g = buildGmcae({ patchSize: 16, filters, m: 4 });
  const tiler = new TiledEncoder(g.encoder);
  const tile = tiler.tileFor(512 * 2 ** 20);
  // (not through tf.tidy: it walks a returned typed array element by element)
  const rand = mulberry32(3);
  const vol = new Float32Array(shape[0] * shape[1] * shape[2]);
  for (let i = 0; i < vol.length; i++) vol[i] = 2 * rand() - 1;
  const rss0 = peakRssMiB();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const feat = await tiler.encode(vol, shape, { tile });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cfg = {
    shape: shape.join("x"),
    filters: filters.join("-"),
    tile,
    features: feat.shape.join("x"),
    backend: info.backend,
  };
  results.push({
    case: "features, whole lung, seed encoder",
    metric: "s_per_patient_symmetry",
    value: +wall.toFixed(2),
    unit: "s",
    cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    ...cfg,
  });
  results.push({
    case: "features, whole lung, seed encoder",
    metric: "peak_rss_after",
    value: Math.round(peakRssMiB()),
    unit: "MiB",
    before: Math.round(rss0),
    ...cfg,
  });
  console.log(
    `features ${cfg.shape} (${cfg.filters}, tile ${tile}): ${wall.toFixed(1)} s, peak RSS ${Math.round(peakRssMiB())} MiB -> ${cfg.features}`,
  );
  tiler.dispose();
  g.model.dispose();

  // head training on stored features: read one patient's array from a store + one step
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-cls-"));
  const params: PreprocessingParams = {
    spacing: [1, 1, 1],
    interpolation: "trilinear",
    thresholdMethod: "otsu",
    maskMode: "kdsb17",
    kernels: {},
    tailFraction: 0.005,
  };
  const store = await openStore(path.join(dir, "s.zarr"), { create: true, params });
  const s8: [number, number, number] = [8, 8, 8];
  await store.writePatient({
    id: "p",
    hu: makeVolume(new Int16Array(512).fill(-800), s8),
    mask: makeVolume(new Uint8Array(512).fill(1), s8),
    source: {
      bbox: [
        [0, 8],
        [0, 8],
        [0, 8],
      ],
      sourceSpacing: [1, 1, 1],
      sourceShape: s8,
      otsuThreshold: -400,
      seriesInstanceUid: "1.2",
      fileCount: 8,
      sourceHash: "h",
      lungflowVersion: "0.1.0",
    },
    params,
  });
  const tw = performance.now();
  await store.writeFeatures("p", "enc-bench", 0, feat);
  const writeS = (performance.now() - tw) / 1000;
  const tr = performance.now();
  const back = (await store.readFeatures("p", "enc-bench", 0))!;
  const readS = (performance.now() - tr) / 1000;
  const head = buildFeatureHead(feat.shape[3], KDSB17_HEAD);
  const vars = head.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-4);
  const xs = tf.tensor5d(back.data, [1, ...back.shape]);
  const ys = tf.tensor2d([[1]]);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const p = tf.clipByValue(head.apply(xs, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
        return tf.neg(
          tf.mean(tf.add(tf.mul(ys, tf.log(p)), tf.mul(tf.sub(1, ys), tf.log(tf.sub(1, p))))),
        ) as tf.Scalar;
      }, vars);
      opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
      value.dataSync();
    });
  step();
  const n = quick ? 2 : 5;
  const ts = performance.now();
  for (let i = 0; i < n; i++) step();
  const stepS = (performance.now() - ts) / 1000 / n;
  const mb = (feat.data.byteLength / 2 ** 20).toFixed(1);
  results.push({
    case: "head on stored feature maps (a head on all channels, one Adam step a patient)",
    metric: "s_per_epoch_per_1000_patients",
    value: Math.round(1000 * (readS + stepS)),
    unit: "s",
    read_s: +readS.toFixed(3),
    step_s: +stepS.toFixed(3),
    write_s: +writeS.toFixed(3),
    mib_per_patient: +mb,
    head: JSON.stringify(KDSB17_HEAD),
    ...cfg,
  });
  console.log(
    `head on stored ${cfg.features} features (${mb} MiB): read ${readS.toFixed(3)} s + step ${stepS.toFixed(3)} s per patient -> ${Math.round(1000 * (readS + stepS))} s per epoch of 1,000 patients (write ${writeS.toFixed(2)} s)`,
  );
  tf.dispose([xs, ys]);
  head.dispose();

  // The default head pools first: it trains on the pooled vectors stored beside the maps
  // (`features` writes them). A real trainClassifier epoch (batchSize 8, Adam once per 8
  // patients) over 32 patients' vectors, plus the read of one vector from the store.
  const pooled = tf.tidy(() =>
    spatialPyramidPool3d(tf.tensor5d(feat.data, [1, ...feat.shape]), [1, 2, 4]),
  );
  const P = pooled.shape[1];
  await store.writeFeatures("p", "enc-bench.spp-max-1-2-4", 0, {
    data: pooled.dataSync() as Float32Array,
    shape: [1, 1, 1, P],
  });
  pooled.dispose();
  const tp = performance.now();
  const pv = (await store.readFeatures("p", "enc-bench.spp-max-1-2-4", 0))!;
  const readP = (performance.now() - tp) / 1000;
  const N = 32;
  /** Seconds of the second trainClassifier epoch (batch 8) over N copies of one stored array. */
  const epochSeconds = async (
    model: tf.LayersModel,
    f: { data: Float32Array; shape: number[] },
    out: string,
    learningRate?: number,
  ) => {
    const run = await trainClassifier({
      model,
      outDir: path.join(dir, out),
      epochs: 2,
      batchSize: 8,
      learningRate,
      train: () =>
        tf.data.generator(function* () {
          for (let i = 0; i < N; i++)
            yield {
              id: `p${i}`,
              xs: tf.tensor(f.data, [1, ...f.shape]),
              ys: tf.tensor2d([[i % 2]]),
            };
        } as unknown as () => Iterator<tf.TensorContainer>) as unknown as tf.data.Dataset<LabelledVolume>,
    });
    return run.epochs[1].seconds;
  };
  const epochS = await epochSeconds(buildPooledHead(P, KDSB17_HEAD), pv, "pooled-run");
  const perPatient = epochS / N + readP;
  results.push({
    case: "head on stored pooled vectors (kdsb17 head)",
    metric: "s_per_epoch_per_1000_patients",
    value: +(1000 * perPatient).toFixed(1),
    unit: "s",
    read_s: +readP.toFixed(4),
    step_s: +(epochS / N).toFixed(4),
    pooled_floats: P,
    ...cfg,
  });
  console.log(
    `head on stored pooled vectors (${P} floats): read ${(readP * 1000).toFixed(1)} ms + ${((epochS / N) * 1000).toFixed(1)} ms a patient (batch 8) -> ${(1000 * perPatient).toFixed(1)} s per epoch of 1,000 patients`,
  );

  // The default head reads the density channel alone, stored beside the maps: computing it
  // (part of `features`), reading it, and a trainClassifier epoch on it (batch 8).
  const td = performance.now();
  const dens = densityMap(vol, shape, [8, 8, 8], DEFAULT_HEAD.density);
  const densS = (performance.now() - td) / 1000;
  await store.writeFeatures("p", "enc-bench.density", 0, dens);
  const tdr = performance.now();
  const dv = (await store.readFeatures("p", "enc-bench.density", 0))!;
  const readD = (performance.now() - tdr) / 1000;
  const epochD = await epochSeconds(
    buildFeatureHead(1, { ...DEFAULT_HEAD, channels: "all" }),
    dv,
    "density-run",
    1e-2,
  );
  const perD = epochD / N + readD;
  results.push({
    case: "head on the stored density channel (default head)",
    metric: "s_per_epoch_per_1000_patients",
    value: +(1000 * perD).toFixed(1),
    unit: "s",
    read_s: +readD.toFixed(4),
    step_s: +(epochD / N).toFixed(4),
    density_s: +densS.toFixed(2),
    density_shape: dens.shape.join("x"),
    ...cfg,
  });
  console.log(
    `default head on the stored density channel (${dens.shape.join("x")}, computed in ${densS.toFixed(2)} s): read ${(readD * 1000).toFixed(1)} ms + ${((epochD / N) * 1000).toFixed(1)} ms a patient (batch 8) -> ${(1000 * perD).toFixed(1)} s per epoch of 1,000 patients`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A cropped lung of a 512x512 scan at 1 mm is about 300 x 230 x 330; the demo's about 70 x 55 x 90. */
const cases = [
  {
    name: "demo-size volume, filters 4-8-16",
    shape: [70, 55, 90],
    filters: [4, 8, 16],
    dense: [16],
    steps: quick ? 2 : 5,
  },
  ...(quick
    ? []
    : [
        {
          name: "half-size lung, filters 4-8-16",
          shape: [150, 115, 165],
          filters: [4, 8, 16],
          dense: [64, 64],
          steps: 2,
        },
      ]),
  ...(quick
    ? []
    : [
        {
          // the end-to-end step where it fits: a half-size lung (1/8 of the voxels) with the
          // seed's encoder; peak RSS after it is in the results
          name: "half-size lung, seed filters 64-128-256",
          shape: [150, 125, 165],
          filters: [64, 128, 256],
          dense: [1024, 1024],
          steps: 1,
        },
        {
          name: "demo-size volume, seed filters 64-128-256",
          shape: [70, 55, 90],
          filters: [64, 128, 256],
          dense: [1024, 1024],
          steps: 1,
        },
      ]),
];

for (const c of cases) {
  const g = buildGmcae({ patchSize: 16, filters: c.filters, m: 2 });
  const model = buildClassifier(g.encoder, { dense: c.dense, dropout: 0.5 });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-4);
  const xs = tf.randomUniform([1, ...c.shape, 1], -1, 1, "float32", 1);
  const ys = tf.tensor2d([[1]]);
  const step = () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => {
        const p = tf.clipByValue(model.apply(xs, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
        return tf.neg(
          tf.mean(tf.add(tf.mul(ys, tf.log(p)), tf.mul(tf.sub(1, ys), tf.log(tf.sub(1, p))))),
        ) as tf.Scalar;
      }, vars);
      opt.applyGradients(clipByGlobalNorm(grads, 1) as Parameters<typeof opt.applyGradients>[0]);
      value.dataSync();
    });
  const predict = () => tf.tidy(() => (model.predict(xs) as tf.Tensor).dataSync());
  const measure = (fn: () => void, n: number) => {
    fn(); // warm-up
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    const cpu = process.cpuUsage(c0);
    return { wall: (performance.now() - t0) / 1000 / n, cpu: (cpu.user + cpu.system) / 1e6 / n };
  };
  const tr = measure(step, c.steps);
  const pr = measure(predict, c.steps);
  const config = {
    shape: c.shape.join("x"),
    filters: c.filters.join("-"),
    dense: c.dense.join("-"),
    backend: info.backend,
    nativeConv3d: info.nativeConv3d,
  };
  results.push({
    case: c.name,
    metric: "train_s_per_patient",
    value: +tr.wall.toFixed(3),
    unit: "s",
    cpu_s: +tr.cpu.toFixed(3),
    ...config,
  });
  results.push({
    case: c.name,
    metric: "peak_rss_after",
    value: Math.round(peakRssMiB()),
    unit: "MiB",
    ...config,
  });
  results.push({
    case: c.name,
    metric: "predict_s_per_patient",
    value: +pr.wall.toFixed(3),
    unit: "s",
    cpu_s: +pr.cpu.toFixed(3),
    ...config,
  });
  console.log(
    `${c.name} ${config.shape}: train ${tr.wall.toFixed(2)} s/patient (cpu ${tr.cpu.toFixed(2)}), predict ${pr.wall.toFixed(2)} s/patient (cpu ${pr.cpu.toFixed(2)})`,
  );
  tf.dispose([xs, ys]);
  model.dispose();
  g.model.dispose();
}
report("classifier", results);
