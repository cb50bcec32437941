import { existsSync } from "node:fs";
import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import {
  BROKEN_VARIANTS,
  type BrokenVariant,
  type EncodingOptions,
  GROUND_TRUTH_DIR,
  makePhantom,
  type PhantomPreset,
  phantomGeometry,
  writeCohort,
  writeSeries,
} from "@lungflow/phantom";
import { type Command, InvalidArgumentError, Option } from "commander";

interface CommonOptions {
  out: string;
  seed: number;
  preset: PhantomPreset;
  matrix?: number;
  slices?: number;
  pixelSpacing?: number;
  sliceSpacing?: number;
  noise: number;
  bowelGas?: boolean;
  table: boolean;
  vessels: boolean;
  transferSyntax: "explicit" | "implicit";
  pixels: "int16" | "uint16";
  slope: 1 | 2;
  padding: boolean;
  fileNames: "sop-uid" | "shuffled" | "instance";
  instanceOrder: "spatial" | "reversed" | "shuffled";
  variant?: BrokenVariant;
  groundTruth: boolean;
  json?: boolean;
}

interface CohortCliOptions extends CommonOptions {
  patients: number;
  mixedEncodings?: boolean;
  cancerMinMm?: number;
  benignMaxMm?: number;
}

interface SeriesCliOptions extends CommonOptions {
  nodules: number;
  cancer?: boolean;
  patientId?: string;
}

const int = (lo: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo)
    throw new InvalidArgumentError(`expected an integer >= ${lo}, got "${v}"`);
  return n;
};
const num = (v: string) => {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n))
    throw new InvalidArgumentError(`expected a number, got "${v}"`);
  return n;
};

/** Options shared by `phantom cohort` and `phantom series`. */
function common(cmd: Command): Command {
  return cmd
    .requiredOption("--out <dir>", "output folder")
    .requiredOption(
      "--seed <n>",
      "seed of every random choice (same seed -> byte-identical files)",
      int(0),
    )
    .addOption(
      new Option(
        "--preset <name>",
        "realistic: adult chests as a clinical CT scans them (per patient: 340-400 mm field of view, " +
          "1-2.5 mm slices over the whole lung height, body size and position varying); " +
          "mini: small 96x96x48 test chests (0.7 / 1.25 mm, too small for ingest's 1 mm lung mask)",
      )
        .choices(["realistic", "mini"])
        .default("realistic"),
    )
    .option(
      "--matrix <n>",
      "rows = columns of each slice (realistic: 512, pixel spacing = field of view / matrix; mini: 96)",
      int(48),
    )
    .option(
      "--slices <n>",
      "number of axial slices (realistic: enough for the lungs and margins; mini: 48)",
      int(16),
    )
    .option(
      "--pixel-spacing <mm>",
      "in-plane pixel spacing in mm (realistic: drawn field of view / matrix; mini: 0.7)",
      num,
    )
    .option(
      "--slice-spacing <mm>",
      "distance between slices in mm (realistic: drawn in 1, 1.25, 1.5, 2, 2.5; mini: 1.25)",
      num,
    )
    .option("--noise <hu>", "standard deviation of the Gaussian noise (HU)", num, 20)
    .option("--bowel-gas", "add bowel gas below the lungs")
    .option("--no-table", "leave out the scanner table")
    .option("--no-vessels", "leave out the pulmonary vessels")
    .addOption(
      new Option("--transfer-syntax <ts>", "explicit or implicit VR little endian")
        .choices(["explicit", "implicit"])
        .default("explicit"),
    )
    .addOption(
      new Option("--pixels <type>", "int16 (RescaleIntercept 0) or uint16 (RescaleIntercept -1024)")
        .choices(["int16", "uint16"])
        .default("int16"),
    )
    .addOption(
      new Option("--slope <n>", "RescaleSlope (2 stores even HU only)")
        .choices(["1", "2"])
        .default(1)
        .argParser((v) => Number(v) as 1 | 2),
    )
    .option("--no-padding", "no PixelPaddingValue outside the circular field of view")
    .addOption(
      new Option(
        "--file-names <kind>",
        "sop-uid (<SOPInstanceUID>.dcm), shuffled (random hex) or instance (IM00001.dcm)",
      )
        .choices(["sop-uid", "shuffled", "instance"])
        .default("sop-uid"),
    )
    .addOption(
      new Option(
        "--instance-order <kind>",
        "InstanceNumber order: reversed (1 = top slice), shuffled or spatial",
      )
        .choices(["reversed", "shuffled", "spatial"])
        .default("reversed"),
    )
    .addOption(
      new Option("--variant <name>", "break the series in one documented way").choices([
        ...BROKEN_VARIANTS,
      ]),
    )
    .option("--no-ground-truth", "do not write <patient>/ground_truth/")
    .option("--json", "print what was written as JSON");
}

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
      throw new Error(
        `${dir} is not empty and holds no phantom series (no ${GROUND_TRUTH_DIR}/truth.json); choose an empty folder`,
      );
    }
    await rm(dir, { recursive: true });
    return;
  }
  const csv = path.join(dir, "stage1_labels.csv");
  if (!existsSync(csv)) {
    throw new Error(
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

async function guarded(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof RangeError || (err instanceof Error && /not empty/.test(err.message))) {
      console.error(`lungflow phantom: ${err.message.replace(/^phantom: /, "")}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

const mb = (b: number) => (b / 1e6).toFixed(1);

/** Registers `phantom cohort` and `phantom series`. */
export function registerPhantom(program: Command): void {
  const phantom = program
    .command("phantom")
    .description(
      "synthetic chest CT written as DICOM: labelled cohorts and single (optionally broken) series",
    );

  common(
    phantom
      .command("cohort")
      .description(
        "write N patients as DIR/<patientId>/*.dcm with ground truth, and DIR/stage1_labels.csv (id,cancer); " +
          "cancer = 1 iff a nodule >= 10 mm, labels balanced 50/50",
      )
      .requiredOption("--patients <n>", "number of patients", int(1))
      .option(
        "--mixed-encodings",
        "draw each patient's encoding at random (seeded) instead of the encoding options",
      )
      .option(
        "--cancer-min-mm <mm>",
        "largest nodule of a cancer patient is at least this (>= 10; default 10)",
        num,
      )
      .option(
        "--benign-max-mm <mm>",
        "every other nodule is at most this (< 10; default 9.5)",
        num,
      ),
  ).action((o: CohortCliOptions) =>
    guarded(async () => {
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
    }),
  );

  common(
    phantom
      .command("series")
      .description("write one phantom as a DICOM series in DIR (ground truth in DIR/ground_truth/)")
      .option("--nodules <n>", "number of nodules", int(0), 2)
      .option("--cancer", "make one nodule >= 10 mm (label 1)")
      .option("--no-cancer", "keep every nodule < 10 mm (label 0)")
      .option("--patient-id <id>", "PatientID (default: 32 hex characters from the seed)"),
  ).action((o: SeriesCliOptions) =>
    guarded(async () => {
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
    }),
  );
}
