import type { Command } from "commander";
import { runAction } from "../options.js";
export interface IngestCliOptions {
  store: string;
  labels?: string;
  workers?: string;
  threads?: string;
  force?: boolean;
  report?: string;
  chunk: string;
  zstdLevel: string;
  maskMode: string;
  lockTimeout: string;
  queue?: string;
  queueName: string;
  attempts: string;
  since?: string;
  modality: string;
  study?: string;
  idFrom: string;
  watch?: boolean;
  poll: string;
}

/** Registers `ingest <dicom-root> --store <path> ...`. */
export function registerIngest(program: Command): void {
  program
    .command("ingest")
    .description(
      "DICOM patient folders -> lung volumes in a patch store (incremental, atomic, parallel)",
    )
    .argument(
      "<dicom-root>",
      "folder with one sub-folder of DICOM files per patient, or a PACS: dicomweb+http://host:port/dicom-web",
    )
    .requiredOption("--store <path>", "patch store (created if missing)")
    .option("--labels <csv>", "Kaggle labels CSV (id,cancer) to import after the run")
    .option(
      "--workers <n>",
      "patients at a time, each on its own thread (default: number of cores)",
    )
    .option(
      "--threads <n>",
      "pool threads; those without a patient help the running ones (slices, z-slabs); --threads 1 with --workers 1 runs without helpers (default: the larger of --workers and the number of cores)",
    )
    .option("--force", "re-ingest patients whose sources are unchanged")
    .option("--report <file>", "write a JSON report (summary and per-patient events)")
    .option("--chunk <n>", "chunk edge in voxels", "64")
    .option("--zstd-level <n>", "zstd compression level 1..22", "3")
    .option("--mask-mode <mode>", "lung mask mode: kdsb17 | improved", "kdsb17")
    .option("--lock-timeout <s>", "seconds to wait for another ingest holding the store", "0")
    .option(
      "--queue <redis-url>",
      "enqueue one job per patient on this Redis (redis://host:port[/db]) for `lungflow worker` processes and follow them; --workers and --threads are unused",
    )
    .option("--queue-name <name>", "BullMQ queue name (one per store)", "lungflow-ingest")
    .option("--attempts <n>", "with --queue: attempts per patient on transient failures", "3")
    .option("--since <date>", "DICOMweb: studies from this date on (YYYY-MM-DD)")
    .option("--modality <m>", "DICOMweb: modality of the series to take", "CT")
    .option("--study <uid>", "DICOMweb: only this StudyInstanceUID")
    .option(
      "--id-from <attr>",
      "DICOMweb: patient id from patient (PatientID; two studies of one id are an error) or study (StudyInstanceUID)",
      "patient",
    )
    .option("--watch", "DICOMweb: keep polling and ingest studies as they arrive (Ctrl-C stops)")
    .option("--poll <s>", "DICOMweb: seconds between polls with --watch", "10")
    .action((root: string, o: IngestCliOptions) =>
      runAction("ingest", async () => (await import("./ingest-actions.js")).ingest(root, o)),
    );
}
