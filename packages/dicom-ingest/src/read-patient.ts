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
