import * as fs from "node:fs/promises";
import * as path from "node:path";
import { isLungflowError } from "@lungflow/volume";
import { type FeatureVerifyCounts, verifyPatientFeatures } from "./features/verify-features.js";
import { readJsonFile } from "./fs-util.js";
import type { PatientAttrs } from "./schema.js";
import type { ArrayName } from "./store/read-chunk.js";
import type { VerifySource } from "./verify-source.js";

/** One thing `verify` found wrong. */
export interface VerifyProblem {
  patientId?: string;
  /**
   * `PATIENT_CORRUPT`, `ARRAY_INVALID`, `MISSING_CHUNK`, `CHUNK_DECODE`, `MASK_VALUES`,
   * `ROOT_INVALID`; for encoder features also `FEATURES_INVALID`, `FEATURES_STALE`,
   * `FEATURES_NOT_FINITE`.
   */
  code: string;
  /** The array concerned when it is a feature array: `features/<encoderId>/s<k>`. */
  array?: string;
  message: string;
  path?: string;
}

/** Result of `PatchStore.verify`. */
export interface VerifyReport {
  ok: boolean;
  patients: number;
  chunks: number;
  /** Decoded bytes checked. */
  bytes: number;
  problems: VerifyProblem[];
  /** Encoder features checked (their chunks are not in `chunks` / `bytes`). */
  features: FeatureVerifyCounts;
  /** Leftovers of crashed writers (removed by the next ingest); not corruption. */
  leftovers: string[];
  /** Labels or split entries naming patients not in the store (informational). */
  warnings: string[];
}

const EXPECTED: Record<ArrayName, { dtype: string; fill: number }> = {
  hu: { dtype: "int16", fill: -1000 },
  mask: { dtype: "uint8", fill: 0 },
};

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}

/** See `PatchStore.verify`; reads the store only through {@link VerifySource}. */
export async function verifyStore(
  store: VerifySource,
  opts: { signal?: AbortSignal; onPatient?: (id: string) => void } = {},
): Promise<VerifyReport> {
  const problems: VerifyProblem[] = [];
  let chunks = 0;
  let bytes = 0;
  const ids = await store.listPatients();
  const readable: PatientAttrs[] = [];
  for (const id of ids) {
    opts.signal?.throwIfAborted();
    opts.onPatient?.(id);
    const dir = path.join(store.root, "patients", id);
    let attrs: PatientAttrs | undefined;
    try {
      attrs = await store.getPatient(id);
    } catch (err) {
      problems.push({
        patientId: id,
        code: "PATIENT_CORRUPT",
        message: (err as Error).message,
        path: dir,
      });
      continue;
    }
    if (!attrs) continue;
    readable.push(attrs);
    let chunkShape: number[] | undefined;
    const arraysOk: ArrayName[] = [];
    for (const name of ["hu", "mask"] as ArrayName[]) {
      const file = path.join(dir, name, "zarr.json");
      let meta: Record<string, unknown> | undefined;
      try {
        meta = (await readJsonFile(file)) as Record<string, unknown> | undefined;
      } catch (err) {
        problems.push({
          patientId: id,
          code: "ARRAY_INVALID",
          message: `${name}: unparsable metadata: ${(err as Error).message}`,
          path: file,
        });
        continue;
      }
      const why = checkArrayMeta(meta, name, attrs.shape);
      if (why) {
        problems.push({
          patientId: id,
          code: "ARRAY_INVALID",
          message: `${name}: ${why}`,
          path: file,
        });
        continue;
      }
      const cs = (meta as { chunk_grid: { configuration: { chunk_shape: number[] } } }).chunk_grid
        .configuration.chunk_shape;
      if (chunkShape && cs.some((n, i) => n !== chunkShape?.[i])) {
        problems.push({
          patientId: id,
          code: "ARRAY_INVALID",
          message: "hu and mask have different chunk shapes",
          path: file,
        });
        continue;
      }
      chunkShape = cs;
      arraysOk.push(name);
    }
    if (!chunkShape) continue;
    const grid = attrs.shape.map((n, a) => Math.ceil(n / (chunkShape as number[])[a]));
    for (const name of arraysOk) {
      let badMask = 0;
      for (let cz = 0; cz < grid[0]; cz++)
        for (let cy = 0; cy < grid[1]; cy++)
          for (let cx = 0; cx < grid[2]; cx++) {
            const coords = [cz, cy, cx];
            const cp = store.chunkPath(id, name, coords);
            chunks++;
            // The writer stores every chunk: a missing one is damage, not fill.
            if (!(await isFile(cp))) {
              problems.push({
                patientId: id,
                code: "MISSING_CHUNK",
                message: `${name} chunk ${coords.join(",")} is missing`,
                path: cp,
              });
              continue;
            }
            try {
              const data = await store.readChunk(id, name, coords, {
                cache: false,
                signal: opts.signal,
              });
              bytes += data.byteLength;
              if (name === "mask") for (let i = 0; i < data.length; i++) if (data[i] > 1) badMask++;
            } catch (err) {
              const code = isLungflowError(err, "ChunkDecodeError")
                ? "CHUNK_DECODE"
                : "CHUNK_UNREADABLE";
              problems.push({ patientId: id, code, message: (err as Error).message, path: cp });
            }
          }
      if (badMask) {
        problems.push({
          patientId: id,
          code: "MASK_VALUES",
          message: `mask has ${badMask} voxel(s) other than 0/1`,
          path: path.join(dir, name),
        });
      }
    }
  }
  const features: FeatureVerifyCounts = { sets: 0, arrays: 0, chunks: 0, bytes: 0 };
  for (const attrs of readable) {
    opts.signal?.throwIfAborted();
    await verifyPatientFeatures(store.root, attrs, problems, features, opts.signal);
  }
  const idSet = new Set(ids);
  const warnings: string[] = [];
  const { labels, split } = store.rootAttrs;
  const unknownLabels = Object.keys(labels).filter((id) => !idSet.has(id));
  if (unknownLabels.length)
    warnings.push(
      `${unknownLabels.length} label(s) for patients not in the store: ${unknownLabels.slice(0, 5).join(", ")}`,
    );
  if (split) {
    const inSplit = [...split.train, ...split.validation, ...split.test];
    const gone = inSplit.filter((id) => !idSet.has(id));
    const missing = ids.filter((id) => !inSplit.includes(id));
    if (gone.length) warnings.push(`split names ${gone.length} patient(s) not in the store`);
    if (missing.length)
      warnings.push(
        `${missing.length} patient(s) not in the split (re-run \`lungflow store split\`)`,
      );
  }
  return {
    ok: problems.length === 0,
    patients: ids.length,
    chunks,
    bytes,
    problems,
    features,
    leftovers: await store.leftovers(),
    warnings,
  };
}

function checkArrayMeta(
  meta: Record<string, unknown> | undefined,
  name: ArrayName,
  shape: number[],
): string | undefined {
  if (!meta) return "zarr.json is missing";
  if (meta.zarr_format !== 3 || meta.node_type !== "array") return "not a Zarr v3 array";
  const exp = EXPECTED[name];
  if (meta.data_type !== exp.dtype) return `data_type ${meta.data_type}, expected ${exp.dtype}`;
  const s = meta.shape as number[];
  if (!Array.isArray(s) || s.length !== 3 || s.some((n, i) => n !== shape[i])) {
    return `shape ${JSON.stringify(s)} differs from the patient's shape ${shape.join("x")}`;
  }
  const cs = (meta.chunk_grid as { configuration?: { chunk_shape?: number[] } } | undefined)
    ?.configuration?.chunk_shape;
  if (!Array.isArray(cs) || cs.length !== 3 || cs.some((n) => !Number.isInteger(n) || n <= 0))
    return "bad chunk_grid";
  const codecs = meta.codecs as { name: string }[];
  if (!Array.isArray(codecs) || !codecs.some((c) => c.name === "bytes"))
    return "codecs lack a bytes codec";
  if (meta.fill_value !== exp.fill)
    return `fill_value ${JSON.stringify(meta.fill_value)}, expected ${exp.fill}`;
  const dn = meta.dimension_names as string[] | undefined;
  if (!Array.isArray(dn) || dn.join(",") !== "z,y,x")
    return `dimension_names ${JSON.stringify(dn)}, expected ["z","y","x"]`;
  return undefined;
}
