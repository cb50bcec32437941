/**
 * Ground truth beside a written series: `<dir>/ground_truth/` holds `truth.json` (shape,
 * spacing, origin, nodules, label, ...) and the raw little-endian arrays `hu.raw` (int16),
 * `lung_mask.raw` and `airway_mask.raw` (uint8), all C-order [z, y, x].
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Nodule, Phantom } from "./types.js";

/** Name of the ground-truth folder inside a patient folder (it holds no DICOM files). */
export const GROUND_TRUTH_DIR = "ground_truth";

/** Contents of truth.json. */
export interface TruthJson {
  format: "lungflow-phantom-truth/1";
  patientId: string;
  seed: number;
  label: 0 | 1;
  shape: [number, number, number];
  spacing: [number, number, number];
  origin: [number, number, number];
  /** Unit vectors (LPS) of the z, y and x axes of the arrays. */
  direction: [[number, number, number], [number, number, number], [number, number, number]];
  fovRadiusPx: number;
  nodules: Nodule[];
  files: { hu: string; lungMask: string; airwayMask: string };
  /** Facts about the DICOM series written beside it (UIDs, encoding, variant). */
  series?: Record<string, unknown>;
}

/** Ground truth as written and read back. */
export interface GroundTruth extends Omit<Phantom, "seed"> {
  seed: number;
  dir: string;
  series?: Record<string, unknown>;
}

function bytes(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes the ground truth of `p` into `dir` (created). Returns the paths written. */
export async function writeGroundTruth(
  p: Phantom,
  dir: string,
  series?: Record<string, unknown>,
): Promise<{ dir: string; files: string[] }> {
  await mkdir(dir, { recursive: true });
  const truth: TruthJson = {
    format: "lungflow-phantom-truth/1",
    patientId: p.patientId,
    seed: p.seed,
    label: p.label,
    shape: p.shape,
    spacing: p.spacing,
    origin: p.origin,
    direction: [
      [0, 0, 1],
      [0, 1, 0],
      [1, 0, 0],
    ],
    fovRadiusPx: p.fovRadiusPx,
    nodules: p.nodules,
    files: { hu: "hu.raw", lungMask: "lung_mask.raw", airwayMask: "airway_mask.raw" },
    series,
  };
  const files = ["truth.json", "hu.raw", "lung_mask.raw", "airway_mask.raw"].map((f) =>
    path.join(dir, f),
  );
  await writeFile(files[0], `${JSON.stringify(truth, null, 2)}\n`);
  // int16 little endian: typed arrays are in platform order, which is little endian on every
  // platform Node supports in practice; checked so a big-endian host fails loudly.
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error("phantom: big-endian host not supported");
  await writeFile(files[1], bytes(p.hu));
  await writeFile(files[2], bytes(p.lungMask));
  await writeFile(files[3], bytes(p.airwayMask));
  return { dir, files };
}

/** Reads ground truth written by {@link writeGroundTruth} (`dir` is the ground_truth folder). */
export async function readGroundTruth(dir: string): Promise<GroundTruth> {
  const t = JSON.parse(await readFile(path.join(dir, "truth.json"), "utf8")) as TruthJson;
  if (t.format !== "lungflow-phantom-truth/1")
    throw new Error(`phantom: ${dir}/truth.json has unknown format ${t.format}`);
  const n = t.shape[0] * t.shape[1] * t.shape[2];
  const load = async (f: string, bytesPer: number) => {
    const b = await readFile(path.join(dir, f));
    if (b.byteLength !== n * bytesPer) {
      throw new Error(
        `phantom: ${path.join(dir, f)} has ${b.byteLength} bytes, expected ${n * bytesPer}`,
      );
    }
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    return copy.buffer;
  };
  return {
    dir,
    patientId: t.patientId,
    seed: t.seed,
    label: t.label,
    shape: t.shape,
    spacing: t.spacing,
    origin: t.origin,
    fovRadiusPx: t.fovRadiusPx,
    nodules: t.nodules,
    hu: new Int16Array(await load(t.files.hu, 2)),
    lungMask: new Uint8Array(await load(t.files.lungMask, 1)),
    airwayMask: new Uint8Array(await load(t.files.airwayMask, 1)),
    series: t.series,
  };
}
