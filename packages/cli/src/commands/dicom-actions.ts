import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import {
  csvLine,
  type DiscoveredPatient,
  discoverSeries,
  isDicomError,
  readDiscoveredPatient,
  readSeries,
  SUMMARY_COLUMNS,
  summarizeFiles,
  writeNifti,
} from "@lungflow/dicom-ingest";
import { UsageError } from "../options.js";
import type { DicomCheckCli, DicomConvertCli, DicomSummarizeCli } from "./dicom.js";

const fmt = (xs: readonly number[], d = 3) => xs.map((x) => +x.toFixed(d)).join(" x ");

/** The `dicom summarize` action. */
export async function dicomSummarize(root: string, o: DicomSummarizeCli): Promise<void> {
  await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
  // Rows stream into a temporary file renamed at the end: no half CSV on failure.
  const tmp = path.join(
    path.dirname(path.resolve(o.out)),
    `.${path.basename(o.out)}.tmp-${process.pid}`,
  );
  const out = createWriteStream(tmp);
  const failed = once(out, "error").then(([e]) => {
    throw e;
  });
  failed.catch(() => {});
  const write = async (line: string) => {
    if (!out.write(`${line}\n`)) await Promise.race([once(out, "drain"), failed]);
  };
  const counts = new Map<string, number>();
  let n = 0;
  try {
    await write(csvLine(SUMMARY_COLUMNS));
    for await (const row of summarizeFiles(root, { concurrency: o.concurrency })) {
      await write(csvLine(SUMMARY_COLUMNS.map((c) => row[c])));
      counts.set(String(row.status), (counts.get(String(row.status)) ?? 0) + 1);
      if (++n % 1000 === 0) process.stderr.write(`${n} files\r`);
    }
    out.end();
    await Promise.race([once(out, "finish"), failed]);
    await rename(tmp, o.out);
  } catch (e) {
    out.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
  const by = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${v} ${k}`);
  console.log(`${n} file(s) -> ${o.out}${by.length ? ` (${by.join(", ")})` : ""}`);
}

/** The `dicom convert` action. */
export async function dicomConvert(dir: string, o: DicomConvertCli): Promise<void> {
  if (!/\.nii(\.gz)?$/.test(o.out))
    throw new UsageError(`--out must end with .nii or .nii.gz, got ${o.out}`);
  const { volume, meta } = await readSeries(dir);
  await mkdir(path.dirname(path.resolve(o.out)), { recursive: true });
  await writeNifti(volume, o.out, {
    description: `lungflow HU ${meta.seriesInstanceUid}`.slice(0, 79),
  });
  if (o.json) {
    console.log(
      JSON.stringify({ out: o.out, ...meta, files: undefined, skipped: meta.skipped.length }),
    );
    return;
  }
  console.log(
    `${o.out}: ${fmt(volume.shape, 0)} voxels (z,y,x), spacing ${fmt(volume.spacing)} mm, ${meta.fileCount} files`,
  );
  console.log(`  patient ${meta.patientId}, series ${meta.seriesInstanceUid}`);
  for (const w of meta.warnings) console.log(`  warning ${w.code}: ${w.message}`);
}

/** The `dicom check` action. */
export async function dicomCheck(root: string, o: DicomCheckCli): Promise<void> {
  const disc = await discoverSeries(root, { concurrency: o.concurrency });
  // A root without any patient (empty, or every file refused: MR only, all cut, not
  // DICOM) is one failed patient with its reason, never "0 patient(s) ... exit 0".
  const patients: DiscoveredPatient[] = disc.patients.length
    ? disc.patients
    : [
        {
          patientId: path.basename(path.resolve(root)),
          dir: disc.root,
          others: [],
          skipped: disc.skipped,
        },
      ];
  let bad = 0;
  for (const p of patients) {
    const base = {
      patientId: p.patientId,
      otherSeries: p.others.map((x) => ({
        seriesInstanceUid: x.series.seriesInstanceUid,
        files: x.series.files.length,
        reason: x.reason,
      })),
      skippedFiles: p.skipped.length,
    };
    let line: Record<string, unknown>;
    try {
      // Without a chosen series this throws why (the code all files were refused for,
      // TRUNCATED naming a cut file, or NO_SERIES with the count per code).
      const { volume, meta } = await readDiscoveredPatient(p);
      line = {
        ...base,
        status: "ok",
        seriesInstanceUid: meta.seriesInstanceUid,
        seriesDir: meta.seriesDir,
        shape: volume.shape,
        spacing: volume.spacing.map((s) => +s.toFixed(4)),
        warnings: meta.warnings.map((w) => w.code),
      };
    } catch (e) {
      if (!isDicomError(e)) throw e;
      line = {
        ...base,
        status: e.code,
        seriesInstanceUid: p.chosen?.seriesInstanceUid,
        seriesDir: p.chosen?.seriesDir ?? p.dir,
        ...(e.context.file ? { file: e.context.file } : {}),
        reason: e.message,
      };
    }
    if (line.status !== "ok") bad++;
    if (o.json) console.log(JSON.stringify(line));
    else if (line.status === "ok") {
      const warn = (line.warnings as string[]).length
        ? `  warnings: ${(line.warnings as string[]).join(", ")}`
        : "";
      console.log(
        `${p.patientId}  ok  ${fmt(line.shape as number[], 0)} @ ${fmt(line.spacing as number[])} mm  ${line.seriesDir}${warn}`,
      );
    } else console.log(`${p.patientId}  ${line.status}  ${line.reason}`);
  }
  const summary = `${patients.length} patient(s), ${patients.length - bad} ok, ${bad} failed; ${disc.fileCount} files, ${disc.skipped.length} skipped`;
  if (o.json) console.error(summary);
  else console.log(summary);
  // 2 = some patients failed (the rest were checked), or nothing under root could be read.
  if (bad) process.exitCode = 2;
}
