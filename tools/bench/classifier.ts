/**
 * Classifier speed: seconds per patient for a training step (forward + backward + Adam) and
 * for prediction, on whole lung volumes of a typical cropped size, with the demo's small
 * encoder (filters 4-8-16) and with the seed's (64-128-256, one step), on the available
 * backend. Reports wall and CPU seconds (the machine may be shared).
 * `pnpm bench classifier [--quick]`.
 */
import { buildClassifier, clipByGlobalNorm } from "@lungflow/classifier";
import { buildGmcae } from "@lungflow/gmcae";
import { initTf, tf } from "@lungflow/tf-runtime";
import { type BenchResult, quick, report } from "./lib.ts";

const info = await initTf();
const results: BenchResult[] = [];

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
