import path from "node:path";
import { type Classified, classifyFile, type SkippedFile } from "./classify.js";
import type { SliceHeader } from "./header.js";
import { groupSeries, rankSeries, type SeriesCandidate, whyNotChosen } from "./series.js";
import { mapLimit, walkFiles } from "./walk.js";

export interface DiscoverOptions {
  /** Files in flight (default 8); header prefixes are read synchronously, whole files (deflated, long headers) asynchronously. */
  concurrency?: number;
  /** Bytes read to parse a header before falling back to the whole file (default 32 KiB). */
  headerBytes?: number;
  /** Called after each file with the running count. */
  onProgress?: (filesSeen: number, file: string) => void;
  signal?: AbortSignal;
  /**
   * Paths to leave out of the walk (e.g. ground-truth folders beside the series):
   * `(path, isDirectory) => boolean`. Hidden entries (".name") are always left out.
   */
  ignore?: (path: string, isDirectory: boolean) => boolean;
}

/** A series that was found but not chosen for its patient. */
export interface OtherSeries {
  series: SeriesCandidate;
  reason: string;
}

/** Everything found for one patient. */
export interface DiscoveredPatient {
  /** PatientID, or the top-level folder name when the files have none. */
  patientId: string;
  /** The top-level folder under the root the patient's files lie in (the root itself for loose files). */
  dir: string;
  /** The series picked by the rule (axial, most files, thinnest spacing); undefined if none. */
  chosen?: SeriesCandidate;
  others: OtherSeries[];
  /** This patient's files that belong to no CT image series (by top-level folder). */
  skipped: SkippedFile[];
}

export interface Discovery {
  root: string;
  fileCount: number;
  /** Patients sorted by id. */
  patients: DiscoveredPatient[];
  /**
   * Every skipped file (also listed under its patient by top-level folder; files directly in
   * the root belong to no patient unless the root itself holds a series).
   */
  skipped: SkippedFile[];
}

/** The folder directly under `root` containing `file` (or `root` for files directly in it). */
function topDir(root: string, file: string): string {
  const rel = path.relative(root, file);
  const first = rel.split(path.sep)[0];
  return first === rel ? root : path.join(root, first);
}

/**
 * Walks a folder tree, reads the header of every file (a bounded prefix, streaming, with
 * `concurrency` files in flight) and groups CT images by patient (PatientID, else the
 * top-level folder name) and SeriesInstanceUID. Files that are not CT images are skipped
 * with a code and a reason (NOT_DICOM, LOCALIZER, SECONDARY_CAPTURE, NOT_CT, ...). Per
 * patient one series is chosen by {@link rankSeries}; the others are reported.
 * Never throws for bad files or unlistable subfolders (reported as skipped, READ_FAILED);
 * throws DicomError READ_FAILED only if `root` cannot be listed, and AbortError on abort.
 */
export async function discoverSeries(root: string, opts: DiscoverOptions = {}): Promise<Discovery> {
  const absRoot = path.resolve(root);
  const accepted: SliceHeader[] = [];
  const skipped: SkippedFile[] = [];
  let count = 0;
  const walk = walkFiles(absRoot, {
    signal: opts.signal,
    ignore: opts.ignore,
    onError: (dir, e) =>
      skipped.push({
        file: dir,
        code: "READ_FAILED",
        reason: `cannot list folder: ${e instanceof Error ? e.message : String(e)}`,
      }),
  });
  const results = mapLimit(walk, opts.concurrency ?? 8, (f) => classifyFile(f, opts.headerBytes));
  for await (const r of results as AsyncGenerator<Classified>) {
    count++;
    if (r.ok) accepted.push(r.header);
    else skipped.push(r.skipped);
    opts.onProgress?.(count, r.ok ? r.header.file : r.skipped.file);
  }
  return assemble(absRoot, count, accepted, skipped);
}

/** Groups classified files into patients and series (shared with `readSeries` on a folder). */
export function assemble(
  root: string,
  fileCount: number,
  accepted: SliceHeader[],
  skipped: SkippedFile[],
): Discovery {
  const folderName = (f: string) => path.basename(topDir(root, f));
  const patientOf = (h: SliceHeader) => h.patientId ?? folderName(h.file);
  const patients = new Map<string, DiscoveredPatient>();
  const get = (id: string, dir: string) => {
    let p = patients.get(id);
    if (!p) {
      p = { patientId: id, dir, others: [], skipped: [] };
      patients.set(id, p);
    }
    return p;
  };
  const candidates = groupSeries(accepted, patientOf);
  const byPatient = new Map<string, SeriesCandidate[]>();
  for (const c of candidates) {
    if (!byPatient.has(c.patientId)) byPatient.set(c.patientId, []);
    byPatient.get(c.patientId)!.push(c);
  }
  for (const [id, list] of byPatient) {
    const ranked = rankSeries(list);
    const p = get(id, topDir(root, ranked[0].files[0]));
    p.chosen = ranked[0];
    p.others = ranked.slice(1).map((s) => ({ series: s, reason: whyNotChosen(s, ranked[0]) }));
  }
  // Skipped files go to the patient whose folder holds them (by folder, as their header may be unreadable).
  const byDir = new Map<string, DiscoveredPatient>();
  for (const p of patients.values()) if (!byDir.has(p.dir)) byDir.set(p.dir, p);
  for (const s of skipped) {
    const dir = topDir(root, s.file);
    // Loose files beside the patient folders (a labels CSV, a README) belong to nobody.
    if (dir === root && !byDir.has(root)) continue;
    const p = byDir.get(dir) ?? get(path.basename(dir), dir);
    byDir.set(dir, p);
    p.skipped.push(s);
  }
  const sorted = [...patients.values()].sort((a, b) =>
    a.patientId < b.patientId ? -1 : a.patientId > b.patientId ? 1 : 0,
  );
  return { root, fileCount, patients: sorted, skipped };
}
