import { createHash } from "node:crypto";
import { isValidPatientId } from "@lungflow/patch-store";
import { type DicomWebClient, tagString } from "./client.js";
import { DicomWebError } from "./errors.js";

/** Which attribute names a patient of a DICOMweb source in the store. */
export type DicomWebIdFrom = "PatientID" | "StudyInstanceUID";

/** What to take from a DICOMweb server. */
export interface DicomWebQuery {
  /** Studies from this date on (`YYYY-MM-DD` or `YYYYMMDD`, QIDO `StudyDate=<date>-`). */
  since?: string;
  /** Modality of the series to take (default `CT`). */
  modality?: string;
  /** Only this StudyInstanceUID (an error if the server does not have it). */
  study?: string;
  /**
   * Patient id in the store: `PatientID` (default; one study per patient, two studies with
   * one PatientID are a `PATIENT_ID_COLLISION`) or `StudyInstanceUID` (one entry per study).
   */
  idFrom?: DicomWebIdFrom;
}

/** One patient as QIDO-RS lists it: its study, the series of the modality, their instances. */
export interface DicomWebPatient {
  id: string;
  study: string;
  series: string[];
  instances: number;
  /** `qido:sha256:<hex>` over the series and SOP instance UIDs: unchanged listing, unchanged patient. */
  sourceHash: string;
}

const T = {
  StudyInstanceUID: "0020000D",
  SeriesInstanceUID: "0020000E",
  SOPInstanceUID: "00080018",
  PatientID: "00100020",
};

/**
 * Lists the patients of a DICOMweb server with QIDO-RS only (studies, their series of the
 * modality, their instances): nothing is fetched. All series of the modality are taken;
 * the same rules as for a folder then pick one (localizers, second series, overlapping
 * acquisitions) once the files are there. Patients that cannot be named come back in
 * `failures`, the rest go on.
 */
export async function listDicomWebPatients(
  client: DicomWebClient,
  q: DicomWebQuery,
): Promise<{ patients: DicomWebPatient[]; failures: { id: string; error: DicomWebError }[] }> {
  const modality = q.modality ?? "CT";
  const studies = await client.qido("studies", {
    ModalitiesInStudy: modality,
    StudyDate: q.since ? `${q.since.replace(/-/g, "")}-` : undefined,
    StudyInstanceUID: q.study,
    includefield: T.PatientID,
  });
  if (q.study !== undefined && studies.length === 0)
    throw new DicomWebError("NOT_FOUND", `study ${q.study} is not on ${client.base}`, {
      url: client.base,
      study: q.study,
    });
  const found: DicomWebPatient[] = [];
  const failures: { id: string; error: DicomWebError }[] = [];
  for (const st of studies) {
    const study = tagString(st, T.StudyInstanceUID);
    if (!study) continue;
    const id = q.idFrom === "StudyInstanceUID" ? study : tagString(st, T.PatientID);
    if (!id || !isValidPatientId(id)) {
      failures.push({
        id: id || study,
        error: new DicomWebError(
          "BAD_PATIENT_ID",
          `study ${study}: PatientID "${id ?? ""}" cannot name a patient (letters, digits, ._- only); use --id-from study`,
          { study },
        ),
      });
      continue;
    }
    const series = (await client.qido(`studies/${study}/series`, { Modality: modality }))
      .map((s) => tagString(s, T.SeriesInstanceUID))
      .filter((s): s is string => s !== undefined)
      .sort();
    if (series.length === 0) continue;
    const rows: string[] = [];
    for (const se of series) {
      const inst = await client.qido(`studies/${study}/series/${se}/instances`, {
        includefield: T.SOPInstanceUID,
      });
      for (const i of inst) rows.push(`${se}/${tagString(i, T.SOPInstanceUID) ?? ""}`);
    }
    rows.sort();
    const sourceHash = `qido:sha256:${createHash("sha256").update(rows.join("\n")).digest("hex")}`;
    found.push({ id, study, series, instances: rows.length, sourceHash });
  }
  // Two studies under one id would overwrite each other: neither is taken.
  const byId = new Map<string, DicomWebPatient[]>();
  for (const p of found) byId.set(p.id, [...(byId.get(p.id) ?? []), p]);
  const patients: DicomWebPatient[] = [];
  for (const [id, ps] of byId) {
    if (ps.length === 1) patients.push(ps[0]);
    else
      failures.push({
        id,
        error: new DicomWebError(
          "PATIENT_ID_COLLISION",
          `PatientID ${id} names ${ps.length} studies (${ps.map((p) => p.study).join(", ")}); none is ingested: use --id-from study, or --study to pick one`,
          { patientId: id, studies: ps.map((p) => p.study) },
        ),
      });
  }
  patients.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { patients, failures };
}
