import path from "node:path";
import { dot, type PlaneName, sliceNormal, slicePlane } from "./geometry.js";
import type { SliceHeader } from "./header.js";

/** One candidate CT series as found on disk (headers read, nothing validated yet). */
export interface SeriesCandidate {
  patientId: string;
  studyInstanceUid?: string;
  seriesInstanceUid: string;
  seriesDescription?: string;
  /** The deepest folder holding all its files. */
  seriesDir: string;
  /** Its files, sorted by path. */
  files: string[];
  headers: SliceHeader[];
  /** Plane of the first file's orientation (undefined without ImageOrientationPatient). */
  plane?: PlaneName;
  /** Median step between sorted distinct positions, mm (undefined when unknown). */
  spacingMm?: number;
}

function commonDir(files: string[]): string {
  let parts = path.dirname(files[0]).split(path.sep);
  for (const f of files) {
    const q = path.dirname(f).split(path.sep);
    let i = 0;
    while (i < parts.length && i < q.length && parts[i] === q[i]) i++;
    parts = parts.slice(0, i);
  }
  return parts.join(path.sep) || path.sep;
}

function estimateSpacing(headers: SliceHeader[]): number | undefined {
  const iop = headers[0].imageOrientation;
  if (!iop) return undefined;
  const n = sliceNormal(iop);
  const s = headers
    .filter((h) => h.imagePosition)
    .map((h) => dot(n, h.imagePosition!))
    .sort((a, b) => a - b);
  const steps: number[] = [];
  for (let i = 1; i < s.length; i++) if (s[i] - s[i - 1] > 0.01) steps.push(s[i] - s[i - 1]);
  if (steps.length === 0) return undefined;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

/** Groups accepted headers by SeriesInstanceUID (files sorted by path). */
export function groupSeries(
  headers: SliceHeader[],
  patientId: (h: SliceHeader) => string,
): SeriesCandidate[] {
  const bySeries = new Map<string, SliceHeader[]>();
  for (const h of headers) {
    const uid = h.seriesInstanceUid!;
    if (!bySeries.has(uid)) bySeries.set(uid, []);
    bySeries.get(uid)!.push(h);
  }
  return [...bySeries.entries()].map(([uid, hs]) => {
    hs.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const files = hs.map((h) => h.file);
    return {
      patientId: patientId(hs[0]),
      studyInstanceUid: hs[0].studyInstanceUid,
      seriesInstanceUid: uid,
      seriesDescription: hs[0].seriesDescription,
      seriesDir: commonDir(files),
      files,
      headers: hs,
      plane: hs[0].imageOrientation ? slicePlane(hs[0].imageOrientation).plane : undefined,
      spacingMm: estimateSpacing(hs),
    };
  });
}

/**
 * The series choice rule, when a patient has several CT series: axial first; then the most
 * files; then the thinnest slice spacing; then the smallest SeriesInstanceUID (so the choice
 * is deterministic). Returns the candidates best first.
 */
export function rankSeries(candidates: SeriesCandidate[]): SeriesCandidate[] {
  return [...candidates].sort((a, b) => {
    const ax = Number(b.plane === "axial") - Number(a.plane === "axial");
    if (ax !== 0) return ax;
    if (a.files.length !== b.files.length) return b.files.length - a.files.length;
    const sa = a.spacingMm ?? Number.POSITIVE_INFINITY;
    const sb = b.spacingMm ?? Number.POSITIVE_INFINITY;
    if (sa !== sb) return sa - sb;
    return a.seriesInstanceUid < b.seriesInstanceUid
      ? -1
      : a.seriesInstanceUid > b.seriesInstanceUid
        ? 1
        : 0;
  });
}

/** Why `other` lost against `chosen` under {@link rankSeries}. */
export function whyNotChosen(other: SeriesCandidate, chosen: SeriesCandidate): string {
  if (chosen.plane === "axial" && other.plane !== "axial")
    return `not axial (${other.plane ?? "unknown orientation"})`;
  if (other.files.length < chosen.files.length)
    return `fewer files (${other.files.length} < ${chosen.files.length})`;
  if (
    (other.spacingMm ?? Number.POSITIVE_INFINITY) > (chosen.spacingMm ?? Number.POSITIVE_INFINITY)
  ) {
    return `thicker spacing (${other.spacingMm?.toFixed(3)} mm > ${chosen.spacingMm?.toFixed(3)} mm)`;
  }
  return "tie broken by SeriesInstanceUID";
}
