/**
 * GMCAE training speed: ms per training step and patches/s for (a) 32^3, filters 8-16-32,
 * m 4, batch 4 and (d) the seed's 32^3, 64-128-256, m 8, batch 1 (one step), plus conv3d
 * forward/backward GFLOP/s, with tfjs's JS kernels and, when `@lungflow/tfjs-conv3d-native`
 * loads, with the native ones (field `kernels`). `--quick`: conv3d for both, (a) one step
 * with the best kernels only, no (d).
 * `pnpm bench gmcae [--quick] [--only a,d,conv]`.
 */
import { buildGmcae, gmmNll } from "@lungflow/gmcae";
import { initTf, tf, useNativeConv3d } from "@lungflow/tf-runtime";
import { type BenchResult, median, quick, report } from "./lib.ts";

const onlyArg = process.argv.indexOf("--only");
const only = onlyArg >= 0 ? process.argv[onlyArg + 1].split(",") : ["a", "d", "conv"];
const info = await initTf();
const kernelSets: Array<"native" | "tfjs"> = info.nativeConv3d ? ["native", "tfjs"] : ["tfjs"];
const results: BenchResult[] = [];
const backend = info.backend;

async function stepTimes(
  name: string,
  cfg: { filters: number[]; m: number; batch: number },
  steps: number,
  kernels: string,
): Promise<void> {
  const g = buildGmcae({ patchSize: 32, filters: cfg.filters, m: cfg.m });
  const vars = g.model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-4);
  const xs = tf.randomUniform([cfg.batch, 32, 32, 32, 1], -1, 1, "float32", 1);
  const ys = tf.reshape(xs, [cfg.batch, 32 ** 3]);
  const step = () => {
    const { value, grads } = tf.variableGrads(
      () => gmmNll(ys, g.model.apply(xs, { training: true }) as tf.Tensor, cfg.m),
      vars,
    );
    value.dataSync();
    opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    tf.dispose([value, grads]);
  };
  const t0 = performance.now();
  step(); // first step: builds the optimizer state and warms caches
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const s = performance.now();
    step();
    times.push(performance.now() - s);
  }
  const ms = times.length ? median(times) : firstMs;
  const conf = { kernels, backend, patch: 32, filters: cfg.filters.join("-"), m: cfg.m, batch: cfg.batch, steps: times.length || 1 };
  results.push({ case: name, metric: "ms_per_step", value: Math.round(ms), unit: "ms", first_step_ms: Math.round(firstMs), ...conf });
  results.push({ case: name, metric: "patches_per_s", value: +((1000 * cfg.batch) / ms).toFixed(2), unit: "patches/s", ...conf });
  console.error(`${name} [${kernels}]: ${ms.toFixed(0)} ms/step (first ${firstMs.toFixed(0)} ms)`);
  tf.dispose([xs, ys]);
  g.model.dispose();
  opt.dispose();
}

function convGflops(kernels: string): void {
  // A level-1 conv of config (a): [B, 16^3, 8 -> 16], k 3, stride 1.
  const b = quick ? 1 : 4;
  const x = tf.randomUniform([b, 16, 16, 16, 8], -1, 1, "float32", 2) as tf.Tensor5D;
  const w = tf.randomUniform([3, 3, 3, 8, 16], -1, 1, "float32", 3) as tf.Tensor5D;
  const flops = 2 * b * 16 ** 3 * 27 * 8 * 16;
  const time = (f: () => tf.Tensor | tf.Tensor[]) => {
    tf.dispose(f());
    const ts: number[] = [];
    for (let i = 0; i < (quick ? 2 : 5); i++) {
      const s = performance.now();
      const r = f();
      (Array.isArray(r) ? r : [r]).forEach((t) => t.dataSync());
      ts.push(performance.now() - s);
      tf.dispose(r);
    }
    return median(ts);
  };
  const fwd = time(() => tf.conv3d(x, w, 1, "same"));
  const dy = tf.conv3d(x, w, 1, "same");
  // Backward = input gradient + filter gradient: 2x the forward FLOPs.
  const bwd = time(() => tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, f as tf.Tensor5D, 1, "same"), dy)))([x, w]));
  const conf = { kernels, backend, shape: `${b}x16^3x8->16`, k: 3 };
  results.push({ case: "conv3d", metric: "forward_gflops", value: +(flops / fwd / 1e6).toFixed(2), unit: "GFLOP/s", ms: +fwd.toFixed(1), ...conf });
  results.push({ case: "conv3d", metric: "backward_gflops", value: +((2 * flops) / bwd / 1e6).toFixed(2), unit: "GFLOP/s", ms: +bwd.toFixed(1), ...conf });
  tf.dispose([x, w, dy]);
}

for (const k of kernelSets) {
  useNativeConv3d(k === "native");
  if (only.includes("conv")) convGflops(k);
  // --quick: (a) only with the best kernels available (a tfjs-kernel step of (a) takes ~10-60 s).
  if (only.includes("a") && (!quick || k === kernelSets[0])) {
    await stepTimes("a", { filters: [8, 16, 32], m: 4, batch: 4 }, quick ? 0 : 3, k);
  }
  // (d) takes minutes per step with tfjs's JS kernels: one step, full runs only.
  if (only.includes("d") && !quick) await stepTimes("d", { filters: [64, 128, 256], m: 8, batch: 1 }, k === "native" ? 2 : 0, k);
}
report("gmcae", results);
