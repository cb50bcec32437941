import { type DiscoveredPatient, type DiscoverOptions, discoverSeries } from "./discover.js";
import { DicomError } from "./errors.js";
import { type ReadSeriesOptions, readPatientSeries, type SeriesRead } from "./read-series.js";

export interface PatientRead extends SeriesRead {
  /** What discovery found in the folder: the chosen series, the others, skipped files. */
  patient: DiscoveredPatient;
}

/**
 * Discovers the series under one patient's folder, picks one by the series rule and reads
 * it. Throws DicomError: NO_SERIES (or the one code all files were skipped for, e.g.
 * NOT_DICOM), MULTIPLE_PATIENTS, or whatever `readSeries` throws for the chosen series.
 */
export async function readPatient(
  patientDir: string,
  opts: ReadSeriesOptions & DiscoverOptions = {},
): Promise<PatientRead> {
  const disc = await discoverSeries(patientDir, opts);
  const withSeries = disc.patients.filter((p) => p.chosen);
  if (withSeries.length > 1) {
    throw new DicomError(
      "MULTIPLE_PATIENTS",
      `${patientDir}: CT images of ${withSeries.length} patients`,
      {
        seriesDir: patientDir,
        reason: `PatientIDs ${withSeries.map((p) => p.patientId).join(", ")}`,
      },
    );
  }
  const patient = withSeries[0];
  const read = await readPatientSeries(patient, patientDir, disc.fileCount, disc.skipped, opts);
  return { ...read, patient };
}

/**
 * Reads the chosen series of a patient found by `discoverSeries` (e.g. in a worker, after one
 * discovery of the whole tree). Warnings include the patient's skipped files and other
 * series; errors are those of {@link readPatient}.
 */
export async function readDiscoveredPatient(
  patient: DiscoveredPatient,
  opts: ReadSeriesOptions = {},
): Promise<PatientRead> {
  const fileCount =
    (patient.chosen?.files.length ?? 0) +
    patient.others.reduce((n, o) => n + o.series.files.length, 0) +
    patient.skipped.length;
  const read = await readPatientSeries(patient, patient.dir, fileCount, patient.skipped, opts);
  return { ...read, patient };
}
