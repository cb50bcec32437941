/**
 * GMCAE and classifier training speed on the `cpu` backend, per kernel set, side by side:
 * - `native+fast`: native conv3d kernels (@lungflow/tfjs-conv3d-native) + tf-runtime's fast
 *   cpu kernels (element-wise, reductions, slices) — what `initTf()` gives;
 * - `native`: native conv3d, tfjs's own other kernels;
 * - `tfjs`: tfjs's JS kernels only.
 * Cases: (a) 32^3, filters 8-16-32, m 4, batch 4; (d) the seed's 32^3, 64-128-256, m 8,
 * batch 1; (cls) a classifier step on a whole 70x55x90 volume (encoder 4-8, SPP [1,2,4],
 * dense 32-32); conv3d forward/backward GFLOP/s. Every step time is reported as wall-clock
 * ms and as CPU ms (process.cpuUsage: all threads; on a shared, loaded machine the CPU time
 * is the stable number, wall time depends on what else runs).
 * (`fast` = tfjs's conv3d + the fast kernels, when the addon is missing.)
 * `--quick`: conv3d, (a) with native+fast (2 steps) and native (1 step), cls with
 * native+fast. `--only a,d,cls,conv` picks cases, `--sets native+fast,native,tfjs` kernel sets.
 * `pnpm bench gmcae [--quick] [--only ...] [--sets ...]`.
 */
import { buildClassifier } from "@lungflow/classifier";
import { buildGmcae, gmmNll } from "@lungflow/gmcae";
import {
  initTf,
  registerFastCpuKernels,
  tf,
  unregisterFastCpuKernels,
  useNativeConv3d,
} from "@lungflow/tf-runtime";
import { type BenchResult, median, quick, report } from "./lib.ts";

type KernelSet = "native+fast" | "native" | "fast" | "tfjs";

function arg(name: string): string[] | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1].split(",") : undefined;
}
const only = arg("--only") ?? ["a", "d", "cls", "conv"];
const info = await initTf();
const fastOn = process.env.LUNGFLOW_FAST_KERNELS !== "0";
const allSets: KernelSet[] = info.nativeConv3d
  ? fastOn
    ? ["native+fast", "native", "tfjs"]
    : ["native", "tfjs"]
  : fastOn
    ? ["fast", "tfjs"]
    : ["tfjs"];
const sets =
  (arg("--sets") as KernelSet[] | undefined)?.filter((s) => allSets.includes(s)) ?? allSets;
const results: BenchResult[] = [];
const backend = info.backend;

function useSet(set: KernelSet): void {
  useNativeConv3d(set.includes("native"));
  if (set.includes("fast")) registerFastCpuKernels();
  else unregisterFastCpuKernels();
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;

/** Times `steps` training steps after one warm-up step; pushes wall and CPU metrics. */
function timeSteps(
  name: string,
  set: KernelSet,
  step: () => void,
  steps: number,
  patchesPerStep: number,
  conf: Record<string, unknown>,
): void {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  step(); // first step: builds the optimizer state and warms caches / JIT
  const firstMs = performance.now() - t0;
  const firstCpu = cpuMs(process.cpuUsage(c0));
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c = process.cpuUsage();
    const s = performance.now();
    step();
    wall.push(performance.now() - s);
    cpu.push(cpuMs(process.cpuUsage(c)));
  }
  const ms = wall.length ? median(wall) : firstMs;
  const cms = cpu.length ? median(cpu) : firstCpu;
  const common = { kernels: set, backend, steps: wall.length || 1, ...conf };
  results.push({
    case: name,
    metric: "ms_per_step",
    value: Math.round(ms),
    unit: "ms",
    first_step_ms: Math.round(firstMs),
    ...common,
  });
  results.push({
    case: name,
    metric: "cpu_ms_per_step",
    value: Math.round(cms),
    unit: "ms",
    first_step_cpu_ms: Math.round(firstCpu),
    ...common,
  });
  results.push({
    case: name,
    metric: "patches_per_s",
    value: +((1000 * patchesPerStep) / ms).toFixed(2),
    unit: "patches/s",
    ...common,
  });
  results.push({
    case: name,
    metric: "patches_per_cpu_s",
    value: +((1000 * patchesPerStep) / cms).toFixed(2),
    unit: "patches/CPU-s",
    ...common,
  });
  console.error(
    `${name} [${set}]: ${ms.toFixed(0)} ms/step wall, ${cms.toFixed(0)} ms/step CPU (first ${firstMs.toFixed(0)} ms wall)`,
  );
}

function gmcaeSteps(
  name: string,
  cfg: { filters: number[]; m: number; batch: number },
  steps: number,
  set: KernelSet,
): void {
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
  timeSteps(name, set, step, steps, cfg.batch, {
    patch: 32,
    filters: cfg.filters.join("-"),
    m: cfg.m,
    batch: cfg.batch,
  });
  tf.dispose([xs, ys]);
  g.model.dispose();
  opt.dispose();
}

/** A classifier training step (as @lungflow/classifier's loop: weighted BCE, Adam). */
function classifierSteps(steps: number, set: KernelSet): void {
  const shape = [70, 55, 90];
  const g = buildGmcae({ patchSize: 16, filters: [4, 8], m: 2 });
  const model = buildClassifier(g.encoder, { dense: [32, 32], bins: [1, 2, 4] });
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const opt = tf.train.adam(1e-4);
  const xs = tf.randomUniform([1, ...shape, 1], -1, 1, "float32", 1);
  const ys = tf.tensor2d([[1]]);
  const step = () => {
    const { value, grads } = tf.variableGrads(() => {
      const p = tf.clipByValue(model.apply(xs, { training: true }) as tf.Tensor, 1e-7, 1 - 1e-7);
      const ll = tf.add(tf.mul(ys, tf.log(p)), tf.mul(tf.sub(1, ys), tf.log(tf.sub(1, p))));
      return tf.neg(tf.mean(ll)) as tf.Scalar;
    }, vars);
    value.dataSync();
    opt.applyGradients(grads as Parameters<typeof opt.applyGradients>[0]);
    tf.dispose([value, grads]);
  };
  timeSteps("cls", set, step, steps, 1, {
    volume: shape.join("x"),
    filters: "4-8",
    bins: "1-2-4",
    dense: "32-32",
    batch: 1,
  });
  tf.dispose([xs, ys]);
  model.dispose();
  g.model.dispose();
  opt.dispose();
}

function convGflops(set: KernelSet): void {
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
  const bwd = time(() =>
    tf.grads((a: tf.Tensor, f: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv3d(a as tf.Tensor5D, f as tf.Tensor5D, 1, "same"), dy)),
    )([x, w]),
  );
  const conf = { kernels: set, backend, shape: `${b}x16^3x8->16`, k: 3 };
  results.push({
    case: "conv3d",
    metric: "forward_gflops",
    value: +(flops / fwd / 1e6).toFixed(2),
    unit: "GFLOP/s",
    ms: +fwd.toFixed(1),
    ...conf,
  });
  results.push({
    case: "conv3d",
    metric: "backward_gflops",
    value: +((2 * flops) / bwd / 1e6).toFixed(2),
    unit: "GFLOP/s",
    ms: +bwd.toFixed(1),
    ...conf,
  });
  tf.dispose([x, w, dy]);
}

for (const set of sets) {
  useSet(set);
  // conv3d speed does not depend on the fast kernels: native vs tfjs.
  if (only.includes("conv") && (set === allSets[0] || set === "tfjs")) convGflops(set);
  // A tfjs-kernel step of (a) takes ~10-60 s: full runs only.
  if (only.includes("a") && (!quick || set !== "tfjs")) {
    const steps = quick ? (set === allSets[0] ? 2 : 1) : set === "tfjs" ? 1 : 3;
    gmcaeSteps("a", { filters: [8, 16, 32], m: 4, batch: 4 }, steps, set);
  }
  if (only.includes("cls") && (!quick || set === allSets[0])) {
    classifierSteps(quick ? 2 : set === "tfjs" ? 1 : 3, set);
  }
  // (d) takes minutes per step with tfjs's JS kernels: full runs only.
  if (only.includes("d") && !quick) {
    gmcaeSteps("d", { filters: [64, 128, 256], m: 8, batch: 1 }, set === "tfjs" ? 0 : 2, set);
  }
}
useSet(allSets[0]);
results.push({
  case: "process",
  metric: "loadavg_1min",
  value: +(await import("node:os")).loadavg()[0].toFixed(1),
  unit: "",
});
report("gmcae", results);
