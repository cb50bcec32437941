import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { before, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  buildClassifier,
  buildFeatureHead,
  DEFAULT_HEAD,
  encoderId,
  type FeatureMap,
  featureSymmetries,
  KDSB17_HEAD,
  lungInput,
  spatialPyramidPool3d,
} from "@lungflow/classifier";
import { buildGmcae, saveGmcae } from "@lungflow/gmcae";
import { lungRegion } from "@lungflow/lung-segmentation";
import { openStore } from "@lungflow/patch-store";
import { initTf, tf } from "@lungflow/tf-runtime";
import { applySymmetry, makeVolume, normalizeHu } from "@lungflow/volume";
import { computeFeatures, FeatureStream } from "../src/features/index.ts";
import { chest, writeChestStore } from "./patches-helpers.ts";

const patients = [
  { id: "a", ...chest([21, 30, 27], 1), label: 1 as const },
  { id: "b", ...chest([18, 26, 33], 2), label: 0 as const },
  { id: "c", ...chest([25, 19, 22], 3), label: 1 as const },
];
let root = "";
let store = "";
let gmcaeDir = "";

function makeStore(dir: string): Promise<void> {
  return writeChestStore(dir, patients);
}

before(async () => {
  await initTf({ backend: "cpu", quiet: true });
  root = fs.mkdtempSync(path.join(os.tmpdir(), "features-"));
  store = path.join(root, "s.zarr");
  await makeStore(store);
  gmcaeDir = path.join(root, "gmcae");
  await saveGmcae(
    buildGmcae({ patchSize: 8, filters: [3, 5], m: 2, seed: 4 }),
    path.join(gmcaeDir, "best"),
  );
});

/** The encoder run on the whole (symmetric) volume at once, as the end-to-end classifier does. */
async function wholeEncoder() {
  const g = await (await import("@lungflow/gmcae")).loadGmcae(path.join(gmcaeDir, "best"));
  return g;
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / Math.max(m, 1e-30);
}

test("features: every patient and symmetry stored, equal to the whole-volume encoder; incremental", async () => {
  // the encoder alone on the whole crop box (kdsb17's input): equal to the untiled encoder
  const plain = { region: false, density: 0 };
  const r = await computeFeatures({ store, gmcae: gmcaeDir, symmetries: 2, tile: 1, input: plain });
  assert.equal(r.written, 6);
  assert.equal(r.skipped, 0);
  assert.deepEqual(r.failed, []);
  assert.deepEqual(r.symmetries, featureSymmetries(2));
  const g = await wholeEncoder();
  assert.equal(r.encoderId, encoderId(g.encoder, plain));
  const model = buildClassifier(g.encoder, {
    ...KDSB17_HEAD,
    dense: [2],
    dropout: 0,
    freezeEncoder: true,
  });
  const enc = tf.model({
    inputs: model.inputs,
    outputs: model.getLayer("encoder/enc_1_relu_b").output as tf.SymbolicTensor,
  });
  const s = await openStore(store);
  for (const p of patients) {
    for (const k of r.symmetries) {
      const f = await s.readFeatures(p.id, r.encoderId, k);
      assert.ok(f, `${p.id} s${k} stored`);
      const v = applySymmetry(normalizeHu(p.hu), p.shape, k);
      const want = enc.predict(tf.tensor5d(v.data, [1, ...v.shape, 1])) as tf.Tensor;
      assert.deepEqual(f.shape, want.shape.slice(1));
      const d = relDiff(f.data, want.dataSync());
      assert.ok(d <= 1e-5, `${p.id} s${k}: relative difference ${d}`);
      want.dispose();
      // the pooled vector beside it: SPP max over bins 1, 2, 4 of the stored map
      const pooled = await s.readFeatures(p.id, r.pooledId, k);
      assert.ok(pooled, `${p.id} pooled s${k}`);
      const spp = spatialPyramidPool3d(tf.tensor5d(f.data, [1, ...f.shape]), [1, 2, 4]);
      assert.deepEqual(pooled.shape, [1, 1, 1, spp.shape[1]]);
      assert.deepEqual(Array.from(pooled.data), Array.from(spp.dataSync()));
    }
  }
  // a second run computes nothing; a larger K only the new symmetry
  const again = await computeFeatures({ store, gmcae: gmcaeDir, symmetries: 2, input: plain });
  assert.equal(again.written, 0);
  assert.equal(again.skipped, 6);
  const more = await computeFeatures({ store, gmcae: gmcaeDir, symmetries: 3, input: plain });
  assert.equal(more.written, 3);
  assert.equal(more.skipped, 6);
  assert.ok((await s.verify()).ok);
  // a patient the store does not hold is a typed failure naming it; the others go on
  const unknown = await computeFeatures({
    store,
    gmcae: gmcaeDir,
    symmetries: 1,
    input: plain,
    ids: ["nope", "a"],
  });
  assert.deepEqual(
    unknown.failed.map((f) => [f.patientId, (f.error as { code?: string }).code]),
    [["nope", "UNKNOWN_PATIENT"]],
  );
  assert.equal(unknown.skipped, 1);
});

test("feature stream: seeded order and symmetry draws within the stored K; all() gives every symmetry", async () => {
  const enc = (await computeFeatures({ store, gmcae: gmcaeDir, symmetries: 3 })).encoderId;
  const fs1 = await FeatureStream.open(store, { encoderId: enc, symmetries: 3, seed: 5 });
  const run = async (s: FeatureStream, e: number) => {
    const out: string[] = [];
    for await (const it of s.epoch(e)) {
      assert.ok(featureSymmetries(3).includes(it.symmetry));
      assert.equal(it.label, patients.find((p) => p.id === it.patientId)?.label);
      assert.equal(
        it.data.length,
        it.shape.reduce((a, b) => a * b, 1),
      );
      out.push(`${it.patientId}:${it.symmetry}`);
    }
    return out;
  };
  const e0 = await run(fs1, 0);
  assert.equal(e0.length, 3);
  assert.deepEqual(await run(fs1, 0), e0, "same seed and epoch, same order and draws");
  const draws = new Set<string>();
  for (let e = 0; e < 12; e++) for (const x of await run(fs1, e)) draws.add(x);
  assert.ok(draws.size > 3, "symmetries are drawn, not fixed");
  const all: string[] = [];
  for await (const it of fs1.all()) all.push(`${it.patientId}:${it.symmetry}`);
  assert.equal(all.length, 9);
  // features that were never computed: a clear error naming the command
  await assert.rejects(
    FeatureStream.open(store, { encoderId: enc, symmetries: 5 }),
    (e: unknown) => (e as { code?: string }).code === "NO_FEATURES",
  );
});

test("a head trained on stored features predicts what the end-to-end classifier with the same (frozen) weights predicts", async () => {
  // the default input: the lung region only, with the density channel appended
  const r = await computeFeatures({ store, gmcae: gmcaeDir, symmetries: 1 });
  const g = await wholeEncoder();
  assert.equal(r.encoderId, encoderId(g.encoder, { region: true, density: 8 }));
  assert.notEqual(r.encoderId, encoderId(g.encoder), "masked features never share the plain id");
  const st = await openStore(store);
  // the density channel is also stored alone: the maps' last channel
  assert.equal(r.densityId, `${r.encoderId}.density`);
  for (const p of patients) {
    const map: FeatureMap = (await st.readFeatures(p.id, r.encoderId, 0))!;
    const d: FeatureMap = (await st.readFeatures(p.id, r.densityId as string, 0))!;
    assert.deepEqual(d.shape, [...map.shape.slice(0, 3), 1]);
    const c = map.shape[3];
    for (let i = 0; i < d.data.length; i++) assert.equal(d.data[i], map.data[i * c + c - 1]);
  }
  for (const channels of ["all", "density"] as const) {
    const head = { ...DEFAULT_HEAD, conv: [4], dense: [6], dropout: 0.2, seed: 9, channels };
    const fhead = buildFeatureHead(5 + 1, { ...head, standardize: false });
    // give the head non-initial weights, then move them into the end-to-end model by layer name
    fhead.setWeights(
      fhead.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 0.5, "float32", 30 + i)),
    );
    const full = buildClassifier(g.encoder, { ...head, standardize: false, freezeEncoder: true });
    for (const l of fhead.layers)
      if (l.weights.length) full.getLayer(l.name).setWeights(l.getWeights());
    const s = await FeatureStream.open(store, {
      encoderId: r.encoderId,
      shuffle: false,
      augment: false,
      requireLabels: false,
    });
    let n = 0;
    for await (const it of s.all()) {
      const p = patients.find((q) => q.id === it.patientId)!;
      assert.equal(it.shape[3], 6, "5 encoder channels + density");
      const attrs = (await st.getPatient(p.id))!;
      const region = lungRegion(
        makeVolume(p.hu, p.shape, attrs.spacing, attrs.origin),
        p.mask,
        attrs.otsuThreshold,
      );
      const x = lungInput(p.hu, region);
      const a = (fhead.predict(tf.tensor5d(it.data, [1, ...it.shape])) as tf.Tensor).dataSync()[0];
      const b = (full.predict(tf.tensor5d(x, [1, ...p.shape, 1])) as tf.Tensor).dataSync()[0];
      assert.ok(
        Math.abs(a - b) <= 1e-5 * Math.max(1, Math.abs(b)),
        `${channels} ${p.id}: ${a} vs ${b}`,
      );
      n++;
    }
    assert.equal(n, patients.length);
  }
});

test("features survive kill -9 at random moments: a re-run completes and the store verifies", async () => {
  const dir = path.join(root, "kill.zarr");
  await makeStore(dir);
  const script = path.join(root, "run-features.mts");
  const src = fileURLToPath(new URL("../src/features/index.ts", import.meta.url));
  fs.writeFileSync(
    script,
    `import { initTf } from ${JSON.stringify(import.meta.resolve("@lungflow/tf-runtime"))};\nimport { computeFeatures } from ${JSON.stringify(src)};\nawait initTf({ backend: "cpu", quiet: true });\nprocess.stdout.write("ready\\n");\nawait computeFeatures({ store: ${JSON.stringify(dir)}, gmcae: ${JSON.stringify(gmcaeDir)}, symmetries: 6, tile: 1 });\nprocess.stdout.write("finished\\n");\n`,
  );
  const tsx = fileURLToPath(import.meta.resolve("tsx"));
  let finished = false;
  let killed = 0;
  for (let trial = 0; trial < 4 && !finished; trial++) {
    const child = spawn(process.execPath, ["--import", tsx, script], {
      cwd: path.dirname(fileURLToPath(import.meta.url)),
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
    });
    await new Promise<void>((resolve) => {
      const kill = () => setTimeout(() => child.kill("SIGKILL"), 150 + 400 * trial);
      child.stdout.on("data", () => {
        if (out.includes("ready") && !out.includes("finished")) kill();
      });
      child.on("exit", (_code, signal) => {
        if (signal === "SIGKILL") killed++;
        resolve();
      });
    });
    finished = out.includes("finished");
  }
  assert.ok(killed >= 1, "at least one run was killed mid-way");
  // whatever the kills left: a complete run, then every array is whole and verified
  const r = await computeFeatures({ store: dir, gmcae: gmcaeDir, symmetries: 6, tile: 1 });
  assert.equal(r.written + r.skipped, 18);
  const s = await openStore(dir);
  const rep = await s.verify();
  assert.ok(rep.ok, JSON.stringify(rep.problems));
  assert.deepEqual(await s.leftovers(), []);
});
