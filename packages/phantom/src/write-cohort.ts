/**
 * A cohort: N phantoms with labels balanced 50/50 (seeded), each written as a DICOM series
 * in `<out>/<patientId>/` with ground truth, plus `<out>/stage1_labels.csv` (`id,cancer`).
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { EncodingOptions } from "./encoding.js";
import { makePhantom, maxNoduleDiameterFor } from "./make-phantom.js";
import { hashSeed, Rng } from "./rng.js";
import { CANCER_DIAMETER_MM, type Nodule, type PhantomOptions } from "./types.js";
import type { BrokenVariant } from "./variants.js";
import { type WrittenSeries, writeSeries } from "./write-series.js";

/**
 * Options of {@link writeCohort}. Explicit geometry options apply to every patient; with
 * `preset: "realistic"` whatever is not given is drawn per patient (field of view, slice
 * spacing and count, body size and position).
 */
export interface CohortOptions
  extends Omit<PhantomOptions, "seed" | "nodules" | "cancer" | "patientId" | "huStep">,
    EncodingOptions {
  /** Output folder (created). */
  out: string;
  /** Number of patients (>= 1). */
  patients: number;
  seed: number;
  /**
   * Draw each patient's encoding (transfer syntax, int16/uint16, slope, padding, file names,
   * instance order) at random (seeded) instead of using the encoding options. Default false.
   */
  mixedEncodings?: boolean;
  /** Break every patient's series in this way (default none). */
  variant?: BrokenVariant;
  /** Write ground truth per patient (default true). */
  groundTruth?: boolean;
  /** Called after each patient is written (for progress). */
  onPatient?: (done: number, total: number, patient: CohortPatient) => void;
}

/** One patient of a cohort. */
export interface CohortPatient {
  patientId: string;
  label: 0 | 1;
  seed: number;
  nodules: Nodule[];
  series: WrittenSeries;
}

export interface WrittenCohort {
  out: string;
  labelsCsv: string;
  patients: CohortPatient[];
}

/**
 * Label of patient i: a seeded permutation gives exactly floor(N/2) cancers. Cancer
 * patients get 1-3 nodules, the largest >= 10 mm; the others 0-3 nodules all < 10 mm, so
 * nodule size (not presence) carries the label.
 */
export async function writeCohort(opts: CohortOptions): Promise<WrittenCohort> {
  const { out, patients: n, seed, mixedEncodings, variant, groundTruth, onPatient, ...rest } = opts;
  if (!Number.isInteger(n) || n < 1)
    throw new RangeError(`phantom: patients must be a positive integer, got ${n}`);
  if (!Number.isInteger(seed) || seed < 0)
    throw new RangeError(`phantom: seed must be a non-negative integer, got ${seed}`);
  const rng = new Rng(hashSeed(seed, 31));
  const perm = rng.shuffle(Array.from({ length: n }, (_, i) => i));
  const cancer = new Array<boolean>(n);
  perm.forEach((p, rank) => {
    cancer[p] = rank < Math.floor(n / 2);
  });
  // Refuse before writing anything if a cancer patient's lungs cannot hold a 10 mm nodule.
  for (let i = 0; i < n; i++) {
    if (!cancer[i]) continue;
    const d = maxNoduleDiameterFor({ ...pickPhantom(rest), seed: hashSeed(seed, 32, i) });
    const need = rest.cancerMinMm ?? CANCER_DIAMETER_MM;
    if (d < need) {
      throw new RangeError(
        `phantom: patient ${i}'s lungs hold nodules up to ${d.toFixed(1)} mm, less than the ${need} mm of a cancer nodule; use a larger matrix, pixel spacing or scan length`,
      );
    }
  }
  await mkdir(out, { recursive: true });
  const patients: CohortPatient[] = [];
  for (let i = 0; i < n; i++) {
    const ps = hashSeed(seed, 32, i);
    const prng = new Rng(ps);
    const enc: EncodingOptions = mixedEncodings ? drawEncoding(prng) : pickEncoding(rest);
    const phantom = makePhantom({
      ...pickPhantom(rest),
      seed: ps,
      nodules: cancer[i] ? prng.int(1, 3) : prng.int(0, 3),
      cancer: cancer[i],
      cancerMinMm: rest.cancerMinMm,
      benignMaxMm: rest.benignMaxMm,
      huStep: enc.rescaleSlope === 2 ? 2 : 1,
    });
    const series = await writeSeries(phantom, path.join(out, phantom.patientId), {
      ...enc,
      variant,
      groundTruth,
    });
    const p: CohortPatient = {
      patientId: phantom.patientId,
      label: phantom.label,
      seed: ps,
      nodules: phantom.nodules,
      series,
    };
    patients.push(p);
    onPatient?.(i + 1, n, p);
  }
  const labelsCsv = path.join(out, "stage1_labels.csv");
  await writeFile(
    labelsCsv,
    `id,cancer\n${patients.map((p) => `${p.patientId},${p.label}`).join("\n")}\n`,
  );
  return { out, labelsCsv, patients };
}

function pickPhantom(o: Partial<PhantomOptions>): Omit<PhantomOptions, "seed"> {
  const { preset, slices, matrix, pixelSpacing, sliceSpacing, origin } = o;
  const { bowelGas, table, vessels, noiseHu } = o;
  return {
    preset,
    slices,
    matrix,
    pixelSpacing,
    sliceSpacing,
    origin,
    bowelGas,
    table,
    vessels,
    noiseHu,
  };
}

function pickEncoding(o: EncodingOptions): EncodingOptions {
  const { transferSyntax, pixels, rescaleSlope, padding, fileNames, instanceOrder } = o;
  return { transferSyntax, pixels, rescaleSlope, padding, fileNames, instanceOrder };
}

function drawEncoding(r: Rng): EncodingOptions {
  const pick = <T>(xs: T[]): T => xs[r.int(0, xs.length - 1)];
  return {
    transferSyntax: pick(["explicit", "implicit"] as const),
    pixels: pick(["int16", "uint16"] as const),
    rescaleSlope: pick([1, 1, 2] as const),
    padding: pick([true, false]),
    fileNames: pick(["sop-uid", "shuffled", "instance"] as const),
    instanceOrder: pick(["spatial", "reversed", "shuffled"] as const),
  };
}
