import { type Command, InvalidArgumentError } from "commander";
import { runAction } from "../options.js";

export interface DicomSummarizeCli {
  out: string;
  concurrency: number;
}

export interface DicomConvertCli {
  out: string;
  json?: boolean;
}

export interface DicomCheckCli {
  json?: boolean;
  concurrency: number;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a positive integer, got "${v}"`);
  return n;
}

/** Registers `dicom summarize|convert|check`. */
export function registerDicom(program: Command): void {
  const dicom = program.command("dicom").description("inspect, check and convert DICOM CT series");

  dicom
    .command("summarize")
    .description(
      "write one CSV row per file under <root> with the header fields that matter (streaming)",
    )
    .argument("<root>", "folder tree of DICOM files")
    .requiredOption("--out <file>", "CSV file to write (e.g. headers.csv)")
    .option("--concurrency <n>", "header reads in flight", positiveInt, 8)
    .action((root: string, o: DicomSummarizeCli) =>
      runAction("dicom summarize", async () =>
        (await import("./dicom-actions.js")).dicomSummarize(root, o),
      ),
    );

  dicom
    .command("convert")
    .description("read one CT series as HU (validated, before resampling) and write it as NIfTI-1")
    .argument(
      "<series-dir>",
      "folder of the series (several series: the rule picks one, see --help of check)",
    )
    .requiredOption("--out <file>", "output .nii or .nii.gz (gzipped)")
    .option("--json", "print the series metadata as JSON")
    .action((dir: string, o: DicomConvertCli) =>
      runAction("dicom convert", async () =>
        (await import("./dicom-actions.js")).dicomConvert(dir, o),
      ),
    );

  dicom
    .command("check")
    .description(
      "per patient under <root>: the chosen CT series (rule: axial, then most files, then thinnest spacing) read and validated, or the error code; exit 2 if any patient fails or no patient is found",
    )
    .argument("<root>", "folder of patient folders (or one patient folder)")
    .option("--json", "print one JSON object per patient")
    .option("--concurrency <n>", "header reads in flight", positiveInt, 8)
    .action((root: string, o: DicomCheckCli) =>
      runAction("dicom check", async () =>
        (await import("./dicom-actions.js")).dicomCheck(root, o),
      ),
    );
}
