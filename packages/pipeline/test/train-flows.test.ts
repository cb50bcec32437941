import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, test } from "node:test";
import {
  KDSB17_HEAD,
  loadClassifier,
  lungInput,
  parseClassifierRunConfig,
} from "@lungflow/classifier";
import { buildGmcae, saveGmcae } from "@lungflow/gmcae";
import { lungRegion } from "@lungflow/lung-segmentation";
import { openStore } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { makeVolume } from "@lungflow/volume";
import { predictFlow, trainClassifierFlow, trainGmcaeFlow } from "../src/train/index.ts";
import { chest, writeChestStore } from "./patches-helpers.ts";

let root = "";
let store = "";

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
  root = fs.mkdtempSync(path.join(os.tmpdir(), "train-flows-"));
  store = path.join(root, "s.zarr");
  const ids = ["a", "b", "c", "d", "e", "f"];
  await writeChestStore(
    store,
    ids.map((id, i) => ({
      id,
      ...chest([20 + (i % 3), 26, 24 + (i % 2)], i + 1),
      // the last patient stays unlabelled: the test split
      label: i < 5 ? ((i % 2) as 0 | 1) : undefined,
    })),
  );
  const s = await openStore(store);
  await s.makeSplit({ seed: 1, validationFraction: 0.4 });
});

const GMCAE = {
  model: { patchSize: 8, filters: [2, 3], m: 2, headFilters: 2, headDense: 4 },
  train: { epochs: 2, stepsPerEpoch: 4, validationSteps: 1, batchSize: 2, learningRate: 3e-3 },
};

test("train gmcae flow: the trainer's batches come from the patch dataset, in recycled shared buffers; resume gives the same losses", async () => {
  const out = path.join(root, "g");
  const r = await trainGmcaeFlow({ store, out, config: GMCAE, workers: 1 });
  assert.equal(r.status, "completed", r.message);
  assert.equal(r.data.batches, 8, "2 epochs x 4 steps, every one from the dataset");
  assert.ok(r.data.recycledBatches > 0, `recycled ${r.data.recycledBatches}`);
  assert.ok(r.losses.every(Number.isFinite));
  // 1 epoch, then resume to 2: the same losses as the uninterrupted run
  const out2 = path.join(root, "g2");
  const a = await trainGmcaeFlow({
    store,
    out: out2,
    config: { ...GMCAE, train: { ...GMCAE.train, epochs: 1 } },
    workers: 1,
  });
  const b = await trainGmcaeFlow({
    store,
    out: out2,
    config: { train: { epochs: 2 } },
    resume: true,
    workers: 1,
  });
  assert.deepEqual([...a.losses, ...b.losses], r.losses);
});

test("train classifier flow: features path and end-to-end path train and predict", async () => {
  const g = path.join(root, "enc");
  await saveGmcae(
    buildGmcae({ patchSize: 8, filters: [2, 3], m: 2, seed: 3 }),
    path.join(g, "best"),
  );
  const st = await openStore(store);
  for (const [name, head] of [
    ["default", { dense: [4], dropout: 0 }],
    ["kdsb17", { ...KDSB17_HEAD, dense: [4], dropout: 0 }],
  ] as const) {
    const cfg = parseClassifierRunConfig({ head, train: { epochs: 2, batchSize: 2 } }, "test");
    for (const endToEnd of [false, true]) {
      const out = path.join(root, `${name}-${endToEnd ? "e2e" : "feat"}`);
      let steps = 0;
      const r = await trainClassifierFlow({
        store,
        out,
        config: cfg,
        gmcae: g,
        endToEnd,
        symmetries: 2,
        workers: 1,
        onStep: () => steps++,
      });
      assert.equal(r.epochs.length, 2);
      assert.equal(steps, 6, "3 training patients x 2 epochs");
      const run = JSON.parse(fs.readFileSync(path.join(out, "config.json"), "utf8"));
      assert.equal(run.features !== undefined, !endToEnd);
      // a head that pools first (kdsb17's) trains on the stored pooled vectors
      // and the default head, which reads the density channel alone, on that channel stored alone
      if (!endToEnd) {
        assert.equal(
          run.features.pooledId,
          name === "kdsb17" ? `${run.features.encoderId}.spp-max-1-2-4` : undefined,
        );
        assert.equal(
          run.features.densityId,
          name === "default" ? `${run.features.encoderId}.density` : undefined,
        );
      }
      const rows = await predictFlow({ store, model: out, split: "test", tta: 2, workers: 1 });
      assert.deepEqual(
        rows.map((x) => x.id),
        ["f"],
      );
      assert.ok(rows[0].cancer > 0 && rows[0].cancer < 1);
      // an end-to-end model sees what the stored features saw: the lung region only (through
      // the volume workers without TTA)
      if (endToEnd) {
        const [one] = await predictFlow({ store, model: out, split: "test", workers: 1 });
        const attrs = (await st.getPatient("f"))!;
        const hu = await st.readVolume("f", "hu");
        const mask = await st.readVolume("f", "mask");
        const region =
          name === "default"
            ? lungRegion(
                makeVolume(hu.data as Int16Array, attrs.shape, attrs.spacing, attrs.origin),
                mask.data as Uint8Array,
                attrs.otsuThreshold,
              )
            : undefined;
        const model = await loadClassifier(out);
        const want = (
          model.predict(
            tf.tensor5d(lungInput(hu.data as Int16Array, region), [1, ...attrs.shape, 1]),
          ) as tf.Tensor
        ).dataSync()[0];
        assert.ok(Math.abs(one.cancer - want) < 1e-6, `${name}: ${one.cancer} vs ${want}`);
        if (region) {
          const whole = (
            model.predict(
              tf.tensor5d(lungInput(hu.data as Int16Array), [1, ...attrs.shape, 1]),
            ) as tf.Tensor
          ).dataSync()[0];
          assert.ok(Math.abs(whole - want) > 1e-6, "the region changes what the model sees");
        }
      }
    }
  }
});
