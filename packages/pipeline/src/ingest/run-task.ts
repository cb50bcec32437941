import { readPatient } from "@lungflow/dicom-ingest";
import { segmentLungs } from "@lungflow/lung-segmentation";
import {
  isValidPatientId,
  openStore,
  type PatchStore,
  type PatientClaim,
  StoreError,
} from "@lungflow/patch-store";
import { resample, type SlabRunner, serialSlabs } from "@lungflow/volume";
import { serializeError } from "./errors.js";
import { type SourceDigest, sourceHash } from "./source-hash.js";
import type { IngestTask, IngestTaskResult, StageTimings } from "./task.js";
import { threadSlabs } from "./thread-slabs.js";

const stores = new Map<string, Promise<PatchStore>>();

async function storeFor(path: string): Promise<PatchStore> {
  let s = stores.get(path);
  if (!s) {
    s = openStore(path);
    stores.set(path, s);
    s.catch(() => stores.delete(path));
    return s;
  }
  // Labels may have changed since the last patient (a long-lived thread): re-read the root.
  const store = await s;
  await store.refresh();
  return store;
}

/**
 * One patient, start to finish, on the calling thread: hash the source files, skip if the
 * store already holds this exact source, else read -> HU -> resample to 1 mm -> segment ->
 * crop -> write atomically. Never throws: failures come back as a serialised typed error.
 */
export async function runIngestTask(task: IngestTask): Promise<IngestTaskResult> {
  const t0 = performance.now();
  let t = t0;
  const timings: Partial<StageTimings> = {};
  let stage = "hash";
  let claim: PatientClaim | undefined;
  const threaded = task.slabPort ? threadSlabs(task.slabPort) : undefined;
  const runner: SlabRunner = threaded ?? serialSlabs;
  const lap = (name: keyof StageTimings) => {
    const now = performance.now();
    timings[name] = Math.round(((timings[name] ?? 0) + now - t) * 10) / 10;
    t = now;
  };
  try {
    if (!isValidPatientId(task.id)) {
      throw new StoreError(
        "INVALID_PATIENT_ID",
        `folder name "${task.id}" cannot be a patient id (letters, digits, ._- only, not starting with .)`,
        { patientId: task.id, dir: task.dir },
      );
    }
    const store = await storeFor(task.store);
    stage = "claim";
    // Many writers may share the store (queue workers on several hosts): one at a time per patient.
    claim = await store.claimPatient(task.id, {
      leaseMs: task.leaseMs,
      waitMs: task.claimWaitMs,
      purpose: `ingest of ${task.dir}`,
    });
    stage = "check";
    let existing: Awaited<ReturnType<PatchStore["getPatient"]>>;
    try {
      existing = await store.getPatient(task.id);
    } catch {
      existing = undefined; // unreadable metadata: re-ingest repairs it
    }
    lap("hash");
    let digest: SourceDigest | undefined;
    if (existing && !task.force) {
      // Skipping an unchanged patient needs its hash before anything else is read.
      stage = "hash";
      digest = await sourceHash(task.dir);
      const sourceKey = task.sourceHash ?? digest.hash;
      lap("hash");
      if (existing.sourceHash === sourceKey) {
        return {
          status: "skipped",
          id: task.id,
          sourceHash: sourceKey,
          dicomBytes: digest.bytes,
          timings: { hash: timings.hash ?? 0, total: Math.round(performance.now() - t0) },
        };
      }
    }
    stage = "read";
    // A new (or changed) patient: each file is hashed as it is read, not in a second pass.
    const { volume, meta } = await readPatient(task.dir, { runner, digest: digest === undefined });
    lap("read");
    if (digest === undefined) {
      stage = "hash";
      digest = await sourceHash(task.dir, meta.fileDigests); // reads only the files not in the series
      lap("hash");
    }
    // A DICOMweb patient is known by its QIDO listing (compared before anything is fetched).
    const sourceKey = task.sourceHash ?? digest.hash;
    stage = "resample";
    const iso = resample(volume, task.params.spacing, { runner });
    lap("resample");
    stage = "segment";
    const seg = segmentLungs(iso, {
      mode: task.maskMode,
      tailFraction: task.params.tailFraction,
      source: task.id,
      runner,
    });
    lap("segment");
    stage = "write";
    const attrs = await store.writePatient(
      {
        id: task.id,
        hu: seg.hu,
        mask: seg.mask,
        params: task.params,
        source: {
          bbox: seg.bbox,
          sourceSpacing: meta.sourceSpacing,
          sourceShape: meta.sourceShape,
          otsuThreshold: seg.otsuThreshold,
          seriesInstanceUid: meta.seriesInstanceUid,
          fileCount: meta.fileCount,
          sourceHash: sourceKey,
          lungflowVersion: task.lungflowVersion,
          extra: {
            lungVolumeMl: seg.stats.lungVolumeMl,
            resampledShape: iso.shape,
            warnings: meta.warnings.map((w) => (w as { code?: string }).code ?? String(w)),
          },
        },
      },
      { chunk: task.chunk, zstdLevel: task.zstdLevel, claim },
    );
    lap("write");
    timings.total = Math.round(performance.now() - t0);
    return {
      status: "ingested",
      id: task.id,
      replaced: existing !== undefined,
      sourceHash: sourceKey,
      dicomBytes: digest.bytes,
      fileCount: meta.fileCount,
      sourceShape: meta.sourceShape,
      shape: attrs.shape,
      lungVolumeMl: seg.stats.lungVolumeMl,
      warnings: meta.warnings.length,
      timings: timings as StageTimings,
      helpedParts: threaded?.helpedParts ?? 0,
      rssMiB: Math.round(process.memoryUsage.rss() / 1048576),
    };
  } catch (err) {
    timings.total = Math.round(performance.now() - t0);
    return { status: "failed", id: task.id, error: serializeError(err), stage, timings };
  } finally {
    await claim?.release().catch(() => undefined);
    task.slabPort?.close();
  }
}
