import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { initTf, tf } from "@lungflow/tf-runtime";
import { GmcaeError, loadGmcae, trainGmcae } from "../src/index.ts";
import { batches, dataset, phantomPatches } from "./patches.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "gmcae-train-"));
before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const MODEL = { patchSize: 16, filters: [4, 8], m: 2, headFilters: 2, headDense: 8 };
const pts = () => phantomPatches(3, 64, 16);
const csvRows = (file: string) => fs.readFileSync(file, "utf8").trim().split("\n").slice(1);

test("the loss falls by >= 20% within ~40 steps on phantom patches, no NaN; logs and checkpoints", async () => {
  const p = pts();
  const dir = path.join(tmp, "fall");
  const r = await trainGmcae({
    outDir: dir,
    config: {
      model: MODEL,
      train: { epochs: 4, stepsPerEpoch: 10, validationSteps: 1, learningRate: 3e-3, clipNorm: 5 },
    },
    data: ({ seed }) => dataset(() => batches(p, 4, seed, 10)),
    validation: ({ seed }) => dataset(() => batches(p, 4, seed, 1)),
  });
  assert.equal(r.status, "completed", r.message);
  assert.ok(r.losses.every(Number.isFinite));
  const first = (r.losses[0] + r.losses[1] + r.losses[2]) / 3;
  const last = r.losses.slice(-10).reduce((s, x) => s + x, 0) / 10;
  console.log(`loss ${first.toFixed(3)} -> ${last.toFixed(3)} in ${r.losses.length} steps`);
  assert.ok(
    first - last >= 0.2 * Math.abs(first),
    `loss ${first} -> ${last}: fell by less than 20%`,
  );
  assert.deepEqual(fs.readdirSync(dir).sort(), [
    "best",
    "config.json",
    "epochs.csv",
    "last",
    "log.csv",
  ]);
  assert.equal(csvRows(path.join(dir, "log.csv")).length, 40);
  assert.equal(csvRows(path.join(dir, "epochs.csv")).length, 4);
  for (const f of ["model.json", "weights.bin", "optimizer.json", "optimizer.bin", "state.json"]) {
    assert.ok(fs.existsSync(path.join(dir, "best", f)), `best/${f}`);
  }
  const best = await loadGmcae(path.join(dir, "best"));
  assert.deepEqual(best.config, r.gmcae.config);
});

/** Runs `epochs` in one go, or `split` epochs then a resume up to `epochs`; returns all step losses. */
async function runLosses(
  name: string,
  epochs: number,
  split: number | undefined,
  data: () => Parameters<typeof trainGmcae>[0]["data"],
): Promise<{ losses: number[]; dir: string }> {
  const dir = path.join(tmp, name);
  const config = {
    model: { ...MODEL, batchNorm: true },
    train: {
      epochs: split ?? epochs,
      stepsPerEpoch: 3,
      validationSteps: 1,
      learningRate: 3e-3,
      patience: 0,
    },
  };
  const p = pts();
  const validation = ({ seed }: { seed: number }) => dataset(() => batches(p, 2, seed, 1));
  const a = await trainGmcae({ outDir: dir, config, data: data(), validation });
  if (split === undefined) return { losses: a.losses, dir };
  const b = await trainGmcae({
    outDir: dir,
    config: { train: { epochs } },
    data: data(),
    validation,
    resume: true,
  });
  assert.equal(b.status, "completed", b.message);
  return { losses: [...a.losses, ...b.losses], dir };
}

test("resume continues exactly: same losses as an uninterrupted run (factory data, batch norm)", async () => {
  const p = pts();
  const factory =
    () =>
    ({ seed }: { seed: number }) =>
      dataset(() => batches(p, 2, seed, 3));
  const whole = await runLosses("whole-f", 3, undefined, factory);
  const resumed = await runLosses("resumed-f", 3, 1, factory);
  assert.equal(whole.losses.length, 9);
  assert.deepEqual(resumed.losses, whole.losses);
  assert.deepEqual(
    fs
      .readFileSync(path.join(resumed.dir, "log.csv"), "utf8")
      .split("\n")
      .map((l) => l.split(",").slice(0, 4).join()),
    fs
      .readFileSync(path.join(whole.dir, "log.csv"), "utf8")
      .split("\n")
      .map((l) => l.split(",").slice(0, 4).join()),
  );
});

test("resume continues exactly when every epoch gets the same dataset object", async () => {
  const p = pts();
  const same = () => {
    const ds = dataset(() => batches(p, 2, 77, 1000));
    return () => ds;
  };
  const whole = await runLosses("whole-d", 3, undefined, same);
  const resumed = await runLosses("resumed-d", 3, 2, same);
  assert.deepEqual(resumed.losses, whole.losses);
});

test("a NaN stops training with a clear message and keeps the last good checkpoint", async () => {
  const p = pts();
  const dir = path.join(tmp, "nan");
  const data = ({ epoch }: { epoch: number }) =>
    dataset(function* () {
      yield* batches(p, 2, epoch, 1);
      if (epoch === 2) {
        const poisoned = new Float32Array(2 * 16 ** 3).fill(0.5);
        poisoned[123] = Number.NaN;
        yield { xs: tf.tensor5d(poisoned, [2, 16, 16, 16, 1]) };
      }
      yield* batches(p, 2, epoch + 100, 1);
    });
  const r = await trainGmcae({
    outDir: dir,
    config: { model: MODEL, train: { epochs: 3, stepsPerEpoch: 2, validationSteps: 0 } },
    data,
  });
  assert.equal(r.status, "non-finite");
  assert.match(
    r.message,
    /loss became NaN at epoch 2 step 2 \(global step 4\).*Last good checkpoint: .*last \(epoch 1\)/,
  );
  const state = JSON.parse(fs.readFileSync(path.join(dir, "last", "state.json"), "utf8"));
  assert.equal(state.epoch, 1);
  const last = await loadGmcae(path.join(dir, "last"));
  const x = tf.tensor5d(p[0], [1, 16, 16, 16, 1]);
  const y = (last.model.predict(x) as tf.Tensor).dataSync();
  assert.ok(y.every(Number.isFinite));
  // The returned model is the last good checkpoint, not the weights after the NaN step.
  assert.deepEqual(Array.from((r.gmcae.model.predict(x) as tf.Tensor).dataSync()), Array.from(y));
  assert.equal(csvRows(path.join(dir, "log.csv")).length, 3);
});

test("early stopping after `patience` epochs without improvement", async () => {
  const p = pts();
  const r = await trainGmcae({
    outDir: path.join(tmp, "early"),
    config: {
      model: MODEL,
      train: { epochs: 10, stepsPerEpoch: 1, validationSteps: 1, learningRate: 1e-12, patience: 2 },
    },
    data: ({ seed }) => dataset(() => batches(p, 2, seed, 1)),
    // The same batch every epoch and a learning rate of ~0: the validation loss cannot improve.
    validation: () => dataset(() => batches(p, 2, 5, 1)),
  });
  assert.equal(r.status, "early-stopped", r.message);
  assert.ok(r.epochs.length <= 4, `ran ${r.epochs.length} epochs`);
  assert.equal(r.bestEpoch, r.epochs.findIndex((e) => e.improved) + 1);
});

test("refuses to overwrite a run, rejects bad batches and a missing checkpoint", async () => {
  const p = pts();
  const dir = path.join(tmp, "fall");
  await assert.rejects(
    trainGmcae({
      outDir: dir,
      config: { model: MODEL },
      data: () => dataset(() => batches(p, 2, 1, 1)),
    }),
    (e: unknown) =>
      e instanceof GmcaeError &&
      e.code === "BAD_CHECKPOINT" &&
      /already holds a run/.test(e.message),
  );
  await assert.rejects(
    trainGmcae({
      outDir: path.join(tmp, "nothing"),
      data: () => dataset(() => batches(p, 2, 1, 1)),
      resume: true,
    }),
    (e: unknown) => e instanceof GmcaeError && e.code === "BAD_CHECKPOINT",
  );
  await assert.rejects(
    trainGmcae({
      outDir: path.join(tmp, "badbatch"),
      config: { model: MODEL, train: { epochs: 1, stepsPerEpoch: 1, validationSteps: 0 } },
      data: () => dataset(() => [{ xs: tf.zeros([2, 8, 8, 8, 1]) }]),
    }),
    (e: unknown) =>
      e instanceof GmcaeError && e.code === "BAD_BATCH" && /\[2,8,8,8,1\]/.test(e.message),
  );
});
