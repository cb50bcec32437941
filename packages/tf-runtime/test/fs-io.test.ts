import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import {
  fileSystemIO,
  initTf,
  isTfRuntimeErrorCode,
  loadModel,
  loadTensors,
  saveModel,
  saveTensors,
  tf,
} from "../src/index.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tf-runtime-"));
before(async () => {
  await initTf({ backend: "cpu", quiet: true });
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function tinyModel(): tf.LayersModel {
  const input = tf.input({ shape: [4, 4, 4, 1] });
  const a = tf.layers
    .conv3d({
      filters: 2,
      kernelSize: 3,
      strides: 2,
      padding: "same",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      name: "down",
    })
    .apply(input) as tf.SymbolicTensor;
  const b = tf.layers
    .conv3dTranspose({
      filters: 1,
      kernelSize: 3,
      strides: 2,
      padding: "same",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      name: "up",
    })
    .apply(a) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: b });
}

test("save -> load gives identical outputs and the tfjs file layout", async () => {
  const m = tinyModel();
  const dir = path.join(tmp, "m1");
  await saveModel(m, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ["model.json", "weights.bin"]);
  const json = JSON.parse(fs.readFileSync(path.join(dir, "model.json"), "utf8"));
  assert.equal(json.format, "layers-model");
  assert.deepEqual(json.weightsManifest[0].paths, ["./weights.bin"]);
  const m2 = await loadModel(dir);
  const x = tf.randomUniform([2, 4, 4, 4, 1], -1, 1, "float32", 3);
  const y1 = (m.predict(x) as tf.Tensor).dataSync();
  const y2 = (m2.predict(x) as tf.Tensor).dataSync();
  assert.deepEqual(Array.from(y2), Array.from(y1));
  // tfjs's own memory handler reads the same artifacts (what any runtime's loader does).
  const artifacts = await fileSystemIO(dir).load!();
  const m3 = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  assert.deepEqual(Array.from((m3.predict(x) as tf.Tensor).dataSync()), Array.from(y1));
});

test("saveTensors / loadTensors round trip (optimizer state)", async () => {
  const named = [
    { name: "a/m", tensor: tf.tensor([1.5, -2, 3], [3]) },
    { name: "iter", tensor: tf.scalar(7, "int32") },
  ];
  await saveTensors(path.join(tmp, "t"), "optimizer", named);
  const back = await loadTensors(path.join(tmp, "t"), "optimizer");
  assert.deepEqual(
    back.map((t) => t.name),
    ["a/m", "iter"],
  );
  assert.deepEqual(Array.from(back[0].tensor.dataSync()), [1.5, -2, 3]);
  assert.equal(back[1].tensor.dtype, "int32");
  assert.equal(back[1].tensor.dataSync()[0], 7);
});

test("missing or truncated model directory: typed MODEL_DIR error naming the file", async () => {
  await assert.rejects(
    loadModel(path.join(tmp, "nope")),
    (e: unknown) => isTfRuntimeErrorCode(e, "MODEL_DIR") && /nope/.test((e as Error).message),
  );
  const dir = path.join(tmp, "m2");
  await saveModel(tinyModel(), dir);
  fs.truncateSync(path.join(dir, "weights.bin"), 10);
  await assert.rejects(
    loadModel(dir),
    (e: unknown) => isTfRuntimeErrorCode(e, "MODEL_DIR") && /bytes/.test((e as Error).message),
  );
});
