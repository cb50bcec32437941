/**
 * conv3d benchmark: GFLOP/s of the three 3D convolution kernels a 3D CNN trains with —
 * forward (Conv3D), backprop-input (Conv3DBackpropInputV2, also conv3dTranspose's forward)
 * and backprop-filter (Conv3DBackpropFilterV2) — with @lungflow/tfjs-conv3d-native's
 * kernels (1 and 2 threads) and with tfjs's plain `cpu` kernels, side by side in one run.
 *
 * Shapes: the GMCAE's layers (config (a): 32^3 patches, filters 8-16-32, batch 4) and the
 * seed's (config (d): filters 64-128-256, batch 1), 3x3x3 kernels, 'same' padding.
 * tfjs's JS kernels run at well under 1 GFLOP/s, so they are timed on the same layer with
 * a smaller volume (batch 1, fewer voxels: field `shape` says which); their speed hardly
 * depends on the volume. FLOPs = 2 * output voxels * CO * 27 * C for every kernel.
 *
 *   pnpm bench conv3d [--quick]
 *
 * Metrics: `gflops` from wall-clock medians (what a user sees) and `gflops_per_cpu_s` from
 * the process's CPU time (per-core efficiency, steadier when the shared machine is busy;
 * `loadavg` records how busy it was).
 */
import os from "node:os";
import { tf } from "@lungflow/tf-runtime";
import { registerNativeConv3d, unregisterNativeConv3d } from "@lungflow/tfjs-conv3d-native";
import { type BenchResult, median, quick, report } from "./lib.js";

interface Layer {
  name: string;
  n: number;
  s: number; // input edge (voxels)
  c: number;
  co: number;
  stride: number;
  quick: boolean;
}

const LAYERS: Layer[] = [
  { name: "gmcae enc0a", n: 4, s: 32, c: 1, co: 8, stride: 1, quick: true },
  { name: "gmcae dec0b", n: 4, s: 32, c: 8, co: 8, stride: 1, quick: true },
  { name: "gmcae enc0b", n: 4, s: 32, c: 8, co: 16, stride: 2, quick: true },
  { name: "gmcae enc1", n: 4, s: 16, c: 16, co: 32, stride: 1, quick: true },
  { name: "gmcae enc2a", n: 4, s: 8, c: 16, co: 32, stride: 1, quick: false },
  { name: "seed enc0a", n: 1, s: 32, c: 1, co: 64, stride: 1, quick: false },
  { name: "seed dec0b", n: 1, s: 32, c: 64, co: 64, stride: 1, quick: false },
  { name: "seed enc1a", n: 1, s: 16, c: 64, co: 128, stride: 1, quick: false },
  { name: "seed dec1b", n: 1, s: 16, c: 128, co: 128, stride: 1, quick: false },
  { name: "seed enc2a", n: 1, s: 8, c: 128, co: 256, stride: 1, quick: true },
];

type Op = "forward" | "backprop_input" | "backprop_filter";
const OPS: Op[] = ["forward", "backprop_input", "backprop_filter"];

/** Median wall and CPU milliseconds of `reps` runs after `warmup` runs. */
function measure(fn: () => void, reps: number, warmup: number): { ms: number; cpuMs: number } {
  for (let i = 0; i < warmup; i++) fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { ms: median(wall), cpuMs: median(cpu) };
}

function flops(l: Layer): number {
  const o = Math.ceil(l.s / l.stride);
  return 2 * l.n * o ** 3 * l.co * 27 * l.c;
}

function shapeName(l: Layer): string {
  return `${l.n}x${l.s}^3x${l.c}->${l.co} s${l.stride}`;
}

/** Tensors for one layer; `run(op)` executes one kernel and disposes its output. */
function setup(l: Layer) {
  const strides: [number, number, number] = [l.stride, l.stride, l.stride];
  const xShape: [number, number, number, number, number] = [l.n, l.s, l.s, l.s, l.c];
  const wShape: [number, number, number, number, number] = [3, 3, 3, l.c, l.co];
  const x = tf.randomUniform(xShape, -1, 1, "float32", 1) as tf.Tensor5D;
  const w = tf.randomUniform(wShape, -1, 1, "float32", 2) as tf.Tensor5D;
  const o = Math.ceil(l.s / l.stride);
  const dy = tf.randomUniform([l.n, o, o, o, l.co], -1, 1, "float32", 3) as tf.Tensor5D;
  const run = (op: Op) => {
    let out: tf.Tensor;
    if (op === "forward") out = tf.conv3d(x, w, strides, "same");
    else if (op === "backprop_input") out = tf.conv3dTranspose(dy, w, xShape, strides, "same");
    else {
      out = tf
        .engine()
        .runKernel(
          "Conv3DBackpropFilterV2",
          { x, dy },
          { strides, pad: "same", filterShape: wShape },
        ) as tf.Tensor;
    }
    out.dataSync();
    out.dispose();
  };
  return { run, dispose: () => tf.dispose([x, w, dy]) };
}

/** Same channels and stride on a volume small enough for tfjs's JS kernels. */
function smallFor(l: Layer, maxFlops: number): Layer {
  let s = l.s;
  const t = { ...l, n: 1, s };
  while (s > 4 && flops({ ...t, s }) > maxFlops) s -= l.stride;
  return { ...t, s };
}

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
  const results: BenchResult[] = [];
  const layers = quick ? LAYERS.filter((l) => l.quick) : LAYERS;
  const reps = quick ? 2 : 5;
  const warmup = 1;
  const tfjsBudget = quick ? 1e7 : 6e7;

  // Native kernels, 1 and 2 threads.
  const native = new Map<string, number>();
  let isa = "";
  for (const threads of [1, 2]) {
    const st = registerNativeConv3d(tf, { threads });
    if (!st.ok) {
      console.error(`conv3d bench: native kernels unavailable: ${st.reason}`);
      break;
    }
    isa = st.isa;
    for (const l of layers) {
      const t = setup(l);
      for (const op of OPS) {
        const { ms, cpuMs } = measure(() => t.run(op), reps, warmup);
        const gflops = flops(l) / ms / 1e6;
        native.set(`${l.name}|${op}|${threads}`, gflops);
        results.push({
          case: `${op} ${l.name} ${shapeName(l)} native x${threads}`,
          metric: "gflops",
          value: +gflops.toFixed(2),
          unit: "GFLOP/s",
          impl: "native",
          isa,
          threads,
          op,
          layer: l.name,
          shape: shapeName(l),
          ms: +ms.toFixed(2),
        });
        results.push({
          case: `${op} ${l.name} ${shapeName(l)} native x${threads} per cpu`,
          metric: "gflops_per_cpu_s",
          value: +(flops(l) / cpuMs / 1e6).toFixed(2),
          unit: "GFLOP/s",
          impl: "native",
          isa,
          threads,
          op,
          layer: l.name,
          shape: shapeName(l),
        });
        console.error(
          `${op.padEnd(16)} ${l.name.padEnd(12)} ${shapeName(l).padEnd(20)} native ${isa} x${threads}: ${gflops.toFixed(1)} GFLOP/s (${ms.toFixed(1)} ms; ${(flops(l) / cpuMs / 1e6).toFixed(1)} per cpu-s)`,
        );
      }
      t.dispose();
    }
  }
  unregisterNativeConv3d(tf);

  // tfjs's own JS kernels (single-threaded), on smaller volumes.
  for (const l of layers) {
    const small = smallFor(l, tfjsBudget);
    const t = setup(small);
    const warm = setup({ ...small, s: 2 * small.stride }); // JIT warm-up on a tiny volume
    for (const op of OPS) {
      warm.run(op);
      const { ms, cpuMs } = measure(() => t.run(op), 1, 0);
      const gflops = flops(small) / ms / 1e6;
      results.push({
        case: `${op} ${l.name} ${shapeName(l)} tfjs`,
        metric: "gflops",
        value: +gflops.toFixed(3),
        unit: "GFLOP/s",
        impl: "tfjs",
        threads: 1,
        op,
        layer: l.name,
        shape: shapeName(small),
        ms: +ms.toFixed(2),
      });
      results.push({
        case: `${op} ${l.name} ${shapeName(l)} tfjs per cpu`,
        metric: "gflops_per_cpu_s",
        value: +(flops(small) / cpuMs / 1e6).toFixed(3),
        unit: "GFLOP/s",
        impl: "tfjs",
        threads: 1,
        op,
        layer: l.name,
        shape: shapeName(small),
      });
      const nat = native.get(`${l.name}|${op}|2`);
      if (nat !== undefined) {
        results.push({
          case: `${op} ${l.name} ${shapeName(l)} speedup`,
          metric: "speedup",
          value: +(nat / gflops).toFixed(1),
          unit: "x",
          op,
          layer: l.name,
          note: "native x2 threads vs tfjs cpu",
        });
      }
      console.error(
        `${op.padEnd(16)} ${l.name.padEnd(12)} ${shapeName(small).padEnd(20)} tfjs: ${gflops.toFixed(3)} GFLOP/s (${ms.toFixed(0)} ms; ${(flops(small) / cpuMs / 1e6).toFixed(3)} per cpu-s)`,
      );
    }
    t.dispose();
    warm.dispose();
  }
  results.push({
    case: "machine",
    metric: "loadavg",
    value: +os.loadavg()[0].toFixed(1),
    unit: "runnable",
    cpus: os.availableParallelism(),
  });
  report("conv3d", results);
}

await main();
