import type { BrokenVariant, PhantomPreset } from "@lungflow/phantom";
import { type Command, InvalidArgumentError, Option } from "commander";
import { runAction } from "../options.js";

/**
 * `--variant` choices: @lungflow/phantom's BROKEN_VARIANTS, written out so that registering
 * the command does not load the phantom package (test/startup.test.ts checks they are equal).
 */
export const VARIANT_CHOICES: readonly BrokenVariant[] = [
  "overlapping-acquisitions",
  "localizer",
  "second-series",
  "missing-slice",
  "duplicate-slice",
  "truncated-file",
  "non-dicom-file",
  "gantry-tilt",
  "sagittal",
];

export interface CommonOptions {
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

export interface CohortCliOptions extends CommonOptions {
  patients: number;
  mixedEncodings?: boolean;
  cancerMinMm?: number;
  benignMaxMm?: number;
}

export interface SeriesCliOptions extends CommonOptions {
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
        ...VARIANT_CHOICES,
      ]),
    )
    .option("--no-ground-truth", "do not write <patient>/ground_truth/")
    .option("--json", "print what was written as JSON");
}

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
    runAction("phantom", async () => (await import("./phantom-actions.js")).phantomCohort(o)),
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
    runAction("phantom", async () => (await import("./phantom-actions.js")).phantomSeries(o)),
  );
}
