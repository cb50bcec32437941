import { LungflowError } from "@lungflow/volume";

/**
 * Codes of {@link DicomWebError}.
 * - `UNREACHABLE`: no connection to the server (refused, DNS, timeout) after the retries.
 * - `HTTP_ERROR`: the server answered an error status (5xx after the retries, or 4xx).
 * - `NOT_FOUND`: the study or series is not on the server (404).
 * - `BAD_RESPONSE`: a body that is not what DICOMweb promises (truncated multipart, no
 *   boundary, JSON that does not parse).
 * - `PATIENT_ID_COLLISION`: two studies give the same patient id (`idFrom: "PatientID"`);
 *   neither is ingested. Use `idFrom: "StudyInstanceUID"` or fix the ids on the PACS.
 * - `BAD_PATIENT_ID`: a study whose PatientID is missing or cannot name a store folder.
 */
export type DicomWebErrorCode =
  | "UNREACHABLE"
  | "HTTP_ERROR"
  | "NOT_FOUND"
  | "BAD_RESPONSE"
  | "PATIENT_ID_COLLISION"
  | "BAD_PATIENT_ID";

/** A failure talking to a DICOMweb server (QIDO-RS or WADO-RS); context names the URL. */
export class DicomWebError extends LungflowError {
  declare readonly code: DicomWebErrorCode;
  constructor(
    code: DicomWebErrorCode,
    message: string,
    context: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super("DicomWebError", code, message, context, options);
  }
}
