import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  type EncodingOptions,
  GROUND_TRUTH_DIR,
  makePhantom,
  phantomGeometry,
  writeCohort,
  writeSeries,
} from "@lungflow/phantom";
import { UsageError } from "../options.js";
import type { CohortCliOptions, CommonOptions, SeriesCliOptions } from "./phantom.js";

function encoding(o: CommonOptions): EncodingOptions {
  return {
    transferSyntax: o.transferSyntax,
    pixels: o.pixels,
    rescaleSlope: o.slope,
    padding: o.padding,
    fileNames: o.fileNames,
    instanceOrder: o.instanceOrder,
  };
}

function geometry(o: CommonOptions) {
  return {
    preset: o.preset,
    matrix: o.matrix,
    slices: o.slices,
    pixelSpacing: o.pixelSpacing,
    sliceSpacing: o.sliceSpacing,
    noiseHu: o.noise,
    bowelGas: o.bowelGas === true,
    table: o.table,
    vessels: o.vessels,
  };
}

/**
 * Makes `dir` ready for a fresh write: absent or empty is fine; a folder written by this
 * command before (a cohort with stage1_labels.csv, or a series with ground truth) has the
 * parts we are about to rewrite removed; anything else is refused, so that a typo in
 * --out never deletes someone's data.
 */
async function prepareOut(dir: string, kind: "cohort" | "series"): Promise<void> {
  if (!existsSync(dir)) return;
  const entries = await readdir(dir);
  if (entries.length === 0) return;
  if (kind === "series") {
    if (!existsSync(path.join(dir, GROUND_TRUTH_DIR, "truth.json"))) {
      throw new UsageError(
        `${dir} is not empty and holds no phantom series (no ${GROUND_TRUTH_DIR}/truth.json); choose an empty folder`,
      );
    }
    await rm(dir, { recursive: true });
    return;
  }
  const csv = path.join(dir, "stage1_labels.csv");
  if (!existsSync(csv)) {
    throw new UsageError(
      `${dir} is not empty and is not a phantom cohort (no stage1_labels.csv); choose an empty folder`,
    );
  }
  const ids = (await readFile(csv, "utf8"))
    .split("\n")
    .slice(1)
    .map((l) => l.split(",")[0])
    .filter((id) => /^[\w.-]+$/.test(id));
  for (const id of ids) await rm(path.join(dir, id), { recursive: true, force: true });
  await rm(csv);
}

/**
 * The phantom package refuses impossible settings (geometry, counts, nodule sizes) with a
 * RangeError: for the command that is a usage error, printed as `lungflow phantom: ...`.
 */
async function asUsage(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof RangeError)
      throw new UsageError(err.message.replace(/^phantom: /, ""), { cause: err });
    throw err;
  }
}

const mb = (b: number) => (b / 1e6).toFixed(1);

/** Registers `phantom cohort` and `phantom series`. */

export async function phantomCohort(o: CohortCliOptions): Promise<void> {
  return asUsage(() => cohort(o));
}

async function cohort(o: CohortCliOptions): Promise<void> {
  phantomGeometry({ seed: o.seed, ...geometry(o) }); // bad geometry: refused before --out is touched
  await prepareOut(o.out, "cohort");
  const t0 = performance.now();
  const c = await writeCohort({
    out: o.out,
    patients: o.patients,
    seed: o.seed,
    ...geometry(o),
    ...encoding(o),
    mixedEncodings: o.mixedEncodings === true,
    cancerMinMm: o.cancerMinMm,
    benignMaxMm: o.benignMaxMm,
    variant: o.variant,
    groundTruth: o.groundTruth,
    onPatient: (done, total, p) => {
      if (o.json) return;
      const d = p.nodules.map((n) => n.diameterMm.toFixed(1)).join(", ");
      console.log(
        `[${done}/${total}] ${p.patientId} cancer=${p.label} nodules=[${d}] ${p.series.files.length} files ${mb(p.series.bytes)} MB`,
      );
    },
  });
  const secs = (performance.now() - t0) / 1000;
  const bytes = c.patients.reduce((a, p) => a + p.series.bytes, 0);
  if (o.json) {
    console.log(
      JSON.stringify({
        out: c.out,
        labelsCsv: c.labelsCsv,
        patients: c.patients.map((p) => ({
          patientId: p.patientId,
          label: p.label,
          nodules: p.nodules,
          dir: p.series.dir,
          files: p.series.files.length,
          groundTruthDir: p.series.groundTruthDir,
          seriesInstanceUid: p.series.seriesInstanceUid,
        })),
      }),
    );
    return;
  }
  const cancers = c.patients.filter((p) => p.label === 1).length;
  console.log(
    `wrote ${c.patients.length} patients (${cancers} cancer) to ${c.out}: ${mb(bytes)} MB of DICOM in ${secs.toFixed(1)} s; labels in ${c.labelsCsv}`,
  );
}

export async function phantomSeries(o: SeriesCliOptions): Promise<void> {
  return asUsage(() => series(o));
}

async function series(o: SeriesCliOptions): Promise<void> {
  phantomGeometry({ seed: o.seed, ...geometry(o) }); // bad geometry: refused before --out is touched
  await prepareOut(o.out, "series");
  const t0 = performance.now();
  const p = makePhantom({
    seed: o.seed,
    ...geometry(o),
    nodules: o.nodules,
    cancer: o.cancer,
    patientId: o.patientId,
    huStep: o.slope === 2 ? 2 : 1,
  });
  const w = await writeSeries(p, o.out, {
    ...encoding(o),
    variant: o.variant,
    groundTruth: o.groundTruth,
  });
  if (o.json) {
    const { files, ...rest } = w;
    console.log(JSON.stringify({ ...rest, label: p.label, nodules: p.nodules, files }));
    return;
  }
  const d = p.nodules.map((n) => n.diameterMm.toFixed(1)).join(", ");
  console.log(
    `wrote ${p.patientId} (${p.shape.join("x")}, cancer=${p.label}, nodules=[${d}]${w.variant ? `, variant ${w.variant}` : ""}) ` +
      `to ${w.dir}: ${w.files.length} files, ${mb(w.bytes)} MB in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}
