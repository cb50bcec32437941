import assert from "node:assert/strict";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { tf } from "@lungflow/tf-runtime";
import { mulberry32 } from "@lungflow/volume";
import {
  buildClassifier,
  ClassifierError,
  KDSB17_HEAD,
  type LabelledVolume,
  readEpochs,
  trainClassifier,
} from "../src/index.ts";

await tf.setBackend("cpu");

const rng = mulberry32;

/** Variable-size noisy "lungs" (-0.8); positives hold a bright 4-voxel blob (the planted signal). */
function cohort(n: number, seed: number): { data: Float32Array; shape: number[]; label: number }[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const shape = [10 + Math.floor(r() * 5), 10 + Math.floor(r() * 5), 10 + Math.floor(r() * 5)];
    const data = new Float32Array(shape[0] * shape[1] * shape[2]);
    for (let k = 0; k < data.length; k++) data[k] = -0.8 + (r() - 0.5) * 0.2;
    const label = i % 2;
    if (label) {
      const [cz, cy, cx] = shape.map((s) => 2 + Math.floor(r() * (s - 6)));
      for (let z = cz; z < cz + 4; z++)
        for (let y = cy; y < cy + 4; y++)
          for (let x = cx; x < cx + 4; x++) data[(z * shape[1] + y) * shape[2] + x] = 0.1;
    }
    return { data, shape, label };
  });
}

/** A per-epoch dataset (what trainClassifier takes) over a function giving an epoch's elements. */
function asDataset(els: (epoch: number) => LabelledVolume[]) {
  return (epoch: number) =>
    tf.data.generator(function* () {
      yield* els(epoch);
    } as unknown as () => Iterator<LabelledVolume>) as tf.data.Dataset<LabelledVolume>;
}

function source(items: ReturnType<typeof cohort>, shuffleSeed?: number) {
  return asDataset(elements(items, shuffleSeed));
}

function elements(items: ReturnType<typeof cohort>, shuffleSeed?: number) {
  return (epoch: number): LabelledVolume[] => {
    const order = items.map((_, i) => i);
    if (shuffleSeed !== undefined) {
      const r = rng(shuffleSeed * 1000 + epoch);
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(r() * (i + 1));
        [order[i], order[j]] = [order[j], order[i]];
      }
    }
    return order.map((i) => ({
      id: `p${i}`,
      xs: tf.tensor5d(items[i].data, [1, ...items[i].shape, 1] as [
        number,
        number,
        number,
        number,
        number,
      ]),
      ys: tf.tensor2d([[items[i].label]]),
    }));
  };
}

function encoder(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [8, 8, 8, 1] });
  let x = tf.layers
    .conv3d({
      filters: 4,
      kernelSize: 3,
      padding: "same",
      activation: "relu",
      name: "enc_0_conv_a",
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
    })
    .apply(input) as tf.SymbolicTensor;
  x = tf.layers
    .conv3d({
      filters: 4,
      kernelSize: 3,
      strides: 2,
      padding: "same",
      activation: "relu",
      name: "enc_0_conv_b",
      kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

const tmp = () => fs.mkdtemp(path.join(os.tmpdir(), "lungflow-cls-"));

test("learns the planted signal: validation AUC >= 0.8, logs and checkpoints written", async () => {
  const dir = await tmp();
  const model = buildClassifier(encoder(1), { ...KDSB17_HEAD, dense: [16], dropout: 0.2, seed: 2 });
  const res = await trainClassifier({
    model,
    train: source(cohort(20, 5), 1),
    validation: source(cohort(12, 99)),
    outDir: dir,
    epochs: 12,
    learningRate: 3e-3,
    patience: 12,
  });
  const last = res.epochs.at(-1)!;
  const bestAuc = Math.max(...res.epochs.map((e) => e.valAuc));
  assert.ok(bestAuc >= 0.8, `best validation AUC ${bestAuc}`);
  assert.ok(last.trainLoss < res.epochs[0].trainLoss, "training loss falls");
  const csv = await readEpochs(dir);
  assert.equal(csv.length, res.epochs.length);
  for (const f of [
    "best/model.json",
    "last/model.json",
    "last/optimizer.json",
    "last/state.json",
    "log.csv",
  ])
    await fs.access(path.join(dir, f));
});

test("resume continues exactly where an uninterrupted run would be", async () => {
  const data = cohort(6, 7);
  const val = cohort(4, 8);
  const full = await tmp();
  const a = await trainClassifier({
    model: buildClassifier(encoder(3), { ...KDSB17_HEAD, dense: [8], dropout: 0.3, seed: 4 }),
    train: source(data, 2),
    validation: source(val),
    outDir: full,
    epochs: 4,
    learningRate: 1e-3,
  });
  const part = await tmp();
  await trainClassifier({
    model: buildClassifier(encoder(3), { ...KDSB17_HEAD, dense: [8], dropout: 0.3, seed: 4 }),
    train: source(data, 2),
    validation: source(val),
    outDir: part,
    epochs: 2,
    learningRate: 1e-3,
  });
  const b = await trainClassifier({
    model: buildClassifier(encoder(99), { ...KDSB17_HEAD, dense: [8], dropout: 0.3, seed: 99 }),
    train: source(data, 2),
    validation: source(val),
    outDir: part,
    epochs: 4,
    learningRate: 1e-3,
    resume: true,
  });
  assert.equal(b.epochs.length, 4);
  for (let i = 0; i < 4; i++) {
    const rel =
      Math.abs(a.epochs[i].trainLoss - b.epochs[i].trainLoss) / Math.abs(a.epochs[i].trainLoss);
    assert.ok(rel < 1e-4, `epoch ${i + 1}: ${a.epochs[i].trainLoss} vs ${b.epochs[i].trainLoss}`);
    assert.ok(Math.abs(a.epochs[i].valLoss - b.epochs[i].valLoss) < 1e-4);
  }
});

test("a non-finite loss stops the run with NON_FINITE_LOSS and keeps the last good checkpoint", async () => {
  const dir = await tmp();
  const data = cohort(4, 11);
  const good = elements(data);
  const poisoned = asDataset((epoch: number) => {
    const els = good(epoch);
    if (epoch === 1) els[2].xs = tf.fill(els[2].xs.shape, Number.NaN) as tf.Tensor;
    return els;
  });
  await assert.rejects(
    trainClassifier({
      model: buildClassifier(encoder(5), { ...KDSB17_HEAD, dense: [4], dropout: 0 }),
      train: poisoned,
      validation: source(cohort(2, 12)),
      outDir: dir,
      epochs: 3,
    }),
    (e: unknown) =>
      e instanceof ClassifierError && e.code === "NON_FINITE_LOSS" && /epoch 2/.test(e.message),
  );
  const state = JSON.parse(await fs.readFile(path.join(dir, "last/state.json"), "utf8"));
  assert.equal(state.epoch, 1, "checkpoint of epoch 1 is intact");
  assert.equal((await readEpochs(dir)).length, 1);
});

test("batchSize averages the gradients of several patients per Adam step (the last step takes the rest)", async () => {
  const { loadTensors } = await import("@lungflow/tf-runtime");
  for (const [batchSize, steps] of [
    [1, 7],
    [3, 3],
    [7, 1],
  ] as const) {
    const dir = await tmp();
    const model = buildClassifier(encoder(1), { ...KDSB17_HEAD, dense: [4], dropout: 0, seed: 2 });
    await trainClassifier({
      model,
      train: source(cohort(7, 5)),
      outDir: dir,
      epochs: 1,
      batchSize,
    });
    const opt = await loadTensors(path.join(dir, "last"), "optimizer");
    const iter = opt.find((t) => t.name === "iter");
    assert.ok(iter, "Adam state has an iteration count");
    assert.equal(iter.tensor.dataSync()[0], steps, `batchSize ${batchSize}`);
    await fs.rm(dir, { recursive: true, force: true });
  }
  await assert.rejects(
    trainClassifier({
      model: buildClassifier(encoder(1), { ...KDSB17_HEAD, dense: [4] }),
      train: source(cohort(2, 5)),
      outDir: await tmp(),
      epochs: 1,
      batchSize: 0,
    }),
    /batchSize/,
  );
});
