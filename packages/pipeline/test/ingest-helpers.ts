import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { type BrokenVariant, makePhantom, writeCohort, writeSeries } from "@lungflow/phantom";
import { lastValueFrom, toArray } from "rxjs";
import { type IngestEvent, type IngestOptions, ingest } from "../src/index.ts";

/** Small, fast phantoms whose lungs pass segmentation (128 x 128 at 0.9 mm, 40 slices of 2.5 mm; at 96 x 96 the chest wall is too thin for the 1 mm kernels and segmentation rightly refuses). */
export const GEOMETRY = { matrix: 128, slices: 40, pixelSpacing: 0.9, sliceSpacing: 2.5 } as const;

export function tmpDir(prefix = "ingest-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function cohort(out: string, patients: number, seed: number) {
  return writeCohort({ out, patients, seed, ...GEOMETRY, groundTruth: false });
}

/** One patient folder written from a phantom, optionally broken. */
export async function patient(dir: string, seed: number, variant?: BrokenVariant) {
  const p = makePhantom({ seed, ...GEOMETRY, patientId: path.basename(dir) });
  return writeSeries(p, dir, { variant, groundTruth: false });
}

export async function runIngest(opts: IngestOptions): Promise<IngestEvent[]> {
  return lastValueFrom(ingest(opts).pipe(toArray()));
}

export function byType(events: IngestEvent[], type: IngestEvent["type"]): string[] {
  return events
    .filter((e) => e.type === type)
    .map((e) => (e as { id: string }).id)
    .sort();
}
