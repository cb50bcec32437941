import fs from "node:fs/promises";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { TfRuntimeError } from "./errors.js";

/** A tensor with a name (what `optimizer.getWeights()` returns). */
export interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

const MODEL_JSON = "model.json";
const WEIGHTS_BIN = "weights.bin";

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, data);
  await fs.rename(tmp, file);
}

async function readOrThrow(file: string, what: string): Promise<Buffer> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    throw new TfRuntimeError(
      "MODEL_DIR",
      `cannot read ${what} ${file}: ${(err as Error).message}`,
      { file },
      { cause: err },
    );
  }
}

function toBytes(data: tf.io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const buf = Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
  return new Uint8Array(buf);
}

/**
 * A `tf.io.IOHandler` that saves to and loads from a directory with node:fs, in tfjs's own
 * format: `model.json` (topology, weights manifest, user metadata) and one `weights.bin`.
 * It is what `tf.io.fileSystem` of tfjs-node writes, so any tfjs runtime (tfjs-node, the
 * browser via http, the converter) reads it; no libtensorflow needed.
 *
 * ```ts
 * await model.save(fileSystemIO("runs/a/best"));
 * const again = await tf.loadLayersModel(fileSystemIO("runs/a/best"));
 * ```
 */
export function fileSystemIO(dir: string): tf.io.IOHandler {
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      await fs.mkdir(dir, { recursive: true });
      const weights = toBytes(artifacts.weightData);
      const modelJson: tf.io.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format,
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.userDefinedMetadata)
        modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.signature) modelJson.signature = artifacts.signature;
      // Weights first, manifest last: a model.json never points at weights not yet written.
      await writeAtomic(path.join(dir, WEIGHTS_BIN), weights);
      await writeAtomic(path.join(dir, MODEL_JSON), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: "JSON",
          modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weights.byteLength,
        },
      };
    },
    async load(): Promise<tf.io.ModelArtifacts> {
      const file = path.join(dir, MODEL_JSON);
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse((await readOrThrow(file, "model")).toString("utf8")) as tf.io.ModelJSON;
      } catch (err) {
        if (err instanceof TfRuntimeError) throw err;
        throw new TfRuntimeError(
          "MODEL_DIR",
          `${file} is not valid JSON: ${(err as Error).message}`,
          { file },
          { cause: err },
        );
      }
      if (json.modelTopology == null) {
        throw new TfRuntimeError("MODEL_DIR", `${file} has no modelTopology`, { file });
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          for (const p of group.paths) parts.push(await readOrThrow(path.join(dir, p), "weights"));
          specs.push(...group.weights);
        }
        const total = parts.reduce((n, p) => n + p.byteLength, 0);
        const all = new Uint8Array(total);
        let o = 0;
        for (const p of parts) {
          all.set(p, o);
          o += p.byteLength;
        }
        const expected = specs.reduce((n, s) => n + bytesOf(s), 0);
        if (expected !== total) {
          throw new TfRuntimeError(
            "MODEL_DIR",
            `weights in ${dir} hold ${total} bytes but the manifest describes ${expected}`,
            { dir, total, expected },
          );
        }
        return [specs, all.buffer];
      });
    },
  };
}

function bytesOf(s: tf.io.WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  const q = s.quantization?.dtype;
  if (q === "uint8") return n;
  if (q === "uint16" || q === "float16") return 2 * n;
  if (s.dtype === "bool") return n;
  return 4 * n;
}

/** Saves a layers model to `dir` (model.json + weights.bin). */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSystemIO(dir));
}

/** Loads a layers model from `dir`. Custom layers must be registered first (import their package). */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return tf.loadLayersModel(fileSystemIO(dir));
}

/**
 * Saves named tensors (e.g. an optimizer's state from `optimizer.getWeights()`) as
 * `<name>.json` (tfjs weight specs) + `<name>.bin`, in the order given.
 */
export async function saveTensors(
  dir: string,
  name: string,
  tensors: NamedTensor[],
): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await writeAtomic(path.join(dir, `${name}.bin`), toBytes(data));
  await writeAtomic(
    path.join(dir, `${name}.json`),
    JSON.stringify({ format: "lungflow-tensors", specs }),
  );
}

/** Loads tensors written by `saveTensors`, in their saved order. */
export async function loadTensors(dir: string, name: string): Promise<NamedTensor[]> {
  const file = path.join(dir, `${name}.json`);
  const meta = JSON.parse((await readOrThrow(file, "tensor manifest")).toString("utf8")) as {
    specs?: tf.io.WeightsManifestEntry[];
  };
  if (!Array.isArray(meta.specs))
    throw new TfRuntimeError("MODEL_DIR", `${file} has no specs`, { file });
  const bin = await readOrThrow(path.join(dir, `${name}.bin`), "tensor data");
  const data = new Uint8Array(bin).buffer;
  const map = tf.io.decodeWeights(data, meta.specs);
  return meta.specs.map((s) => ({ name: s.name, tensor: map[s.name] }));
}
