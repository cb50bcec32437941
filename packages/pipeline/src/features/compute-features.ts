import {
  type ClassifierHeadConfig,
  concatChannels,
  DEFAULT_HEAD,
  densityFeatureId,
  densityMap,
  encoderId,
  featureSymmetries,
  lungInput,
  pooledFeatureId,
  resolveCheckpoint,
  spatialPyramidPool3d,
  TiledEncoder,
} from "@lungflow/classifier";
import { loadGmcae } from "@lungflow/gmcae";
import type { PatchStore, PatientAttrs } from "@lungflow/patch-store";
import { openStore } from "@lungflow/patch-store";
import { tf } from "@lungflow/tf-runtime";
import { applySymmetry } from "@lungflow/volume";
import { PatchStreamError } from "../patches/errors.js";
import { regionHu } from "../patches/region-hu.js";

/** The SPP of the pooled vectors stored beside the maps (kdsb17's: max over 1, 2, 4 bins). */
const POOLED = { ...DEFAULT_HEAD, bins: [1, 2, 4], pooling: "max" as const };

/**
 * The classifier's input volume of a stored patient: normalised HU, outside the lung region
 * (`lungRegion` of the stored mask) read as air when `region` is on.
 */
export async function classifierVolume(
  store: PatchStore,
  attrs: PatientAttrs,
  region: boolean,
  signal?: AbortSignal,
): Promise<{ data: Float32Array; shape: [number, number, number] }> {
  const hu = await store.readVolume(attrs.id, "hu", { signal });
  const shape = hu.shape as [number, number, number];
  if (!region) return { data: lungInput(hu.data as Int16Array), shape };
  const mask = await store.readVolume(attrs.id, "mask", { signal });
  // the freshly read HU is ours to mask in place
  return {
    data: lungInput(regionHu(hu.data as Int16Array, shape, mask.data as Uint8Array, attrs)),
    shape,
  };
}

/** Options of {@link computeFeatures}. */
export interface ComputeFeaturesOptions {
  /** The store (`lungflow ingest`'s output). */
  store: string;
  /** GMCAE run or checkpoint folder whose encoder is run (frozen). */
  gmcae: string;
  /** Symmetries per patient: the first K of `featureSymmetries` (default 8; identity first). */
  symmetries?: number;
  /** Patients to do (default: every patient in the store). */
  ids?: string[];
  /** Tile edge in feature voxels (default: the largest whose activations fit `maxTileMiB`). */
  tile?: number;
  /** Memory budget of one tile's activations, MiB (default 512). */
  maxTileMiB?: number;
  /** Wait this long for another writer's store lock (default 0: fail at once). */
  lockTimeoutMs?: number;
  /**
   * What the features are computed on (the classifier's `region` and `density`, defaults as
   * in DEFAULT_HEAD: the masked lung region, with a density channel of window 8 appended).
   */
  input?: Partial<Pick<ClassifierHeadConfig, "region" | "density">>;
  signal?: AbortSignal;
  onEvent?: (e: FeaturesEvent) => void;
}

/** Progress of a features run. */
export type FeaturesEvent =
  | { type: "start"; encoderId: string; patients: number; symmetries: number[]; tile: number }
  | { type: "skip"; patientId: string; symmetries: number[] }
  | {
      type: "done";
      patientId: string;
      symmetry: number;
      shape: [number, number, number, number];
      seconds: number;
    }
  | { type: "failed"; patientId: string; error: Error }
  | {
      type: "finished";
      encoderId: string;
      written: number;
      skipped: number;
      failed: number;
      seconds: number;
    };

export interface FeaturesReport {
  encoderId: string;
  /**
   * Id of the pooled vectors stored beside the maps: SPP max over bins 1, 2, 4 of each map, as
   * `[1, 1, 1, P]` arrays (`pooledFeatureId(encoderId)`), what a head that pools first trains on.
   */
  pooledId: string;
  /**
   * Id of the density channel stored alone beside the maps (`densityFeatureId(encoderId)`,
   * `[z, y, x, 1]`), when the features have one: what a head reading only it trains on.
   */
  densityId?: string;
  symmetries: number[];
  /** Arrays written in this run. */
  written: number;
  /** Arrays already in the store (same encoder id and symmetry), not recomputed. */
  skipped: number;
  failed: { patientId: string; error: Error }[];
  seconds: number;
}

/**
 * Runs a trained GMCAE's encoder (frozen) over every patient's whole lung, for the first K
 * cube symmetries, in tiles (peak memory set by the tile, not the lung), and stores the
 * feature maps in the store as `patients/<id>/features/<encoder-id>/s<k>`. Incremental:
 * arrays already stored for this encoder id are skipped, so a re-run after adding patients,
 * raising K or a crash only computes what is missing. Each array is committed atomically;
 * a patient re-ingested meanwhile fails with `SOURCE_CHANGED` and the rest go on.
 */
export async function computeFeatures(o: ComputeFeaturesOptions): Promise<FeaturesReport> {
  const t0 = performance.now();
  const syms = featureSymmetries(o.symmetries ?? 8);
  const gm = await loadGmcae(await resolveCheckpoint(o.gmcae));
  const input = {
    region: o.input?.region ?? DEFAULT_HEAD.region,
    density: o.input?.density ?? DEFAULT_HEAD.density,
  };
  const id = encoderId(gm.encoder, input);
  const tiler = new TiledEncoder(gm.encoder);
  const tile = o.tile ?? tiler.tileFor((o.maxTileMiB ?? 512) * 2 ** 20);
  const store = await openStore(o.store);
  const lock = await store.lock({ purpose: "features", timeoutMs: o.lockTimeoutMs ?? 0 });
  const pooledId = pooledFeatureId(id, POOLED);
  const densityId = input.density > 0 ? densityFeatureId(id) : undefined;
  const report: FeaturesReport = {
    encoderId: id,
    pooledId,
    densityId,
    symmetries: syms,
    written: 0,
    skipped: 0,
    failed: [],
    seconds: 0,
  };
  try {
    await store.recover();
    const all = await store.listPatients();
    const ids = o.ids ?? all;
    o.onEvent?.({ type: "start", encoderId: id, patients: ids.length, symmetries: syms, tile });
    const meta = {
      gmcae: gm.config,
      stride: tiler.geometry.stride,
      receptiveField: tiler.geometry.receptiveField,
      normalize: { min: -1000, max: 400, clip: true },
      // outside the lung region read as air; the last channel is the density channel
      input,
      channels: tiler.geometry.channels + (input.density > 0 ? 1 : 0),
    };
    for (const pid of ids) {
      o.signal?.throwIfAborted();
      // the patient as read before its features are computed: a write after a re-ingest fails
      let sourceHash: string | undefined;
      const writePooled = async (
        f: { data: Float32Array; shape: [number, number, number, number] },
        k: number,
      ) => {
        const v = tf.tidy(() =>
          spatialPyramidPool3d(tf.tensor5d(f.data, [1, ...f.shape]), POOLED.bins, "max"),
        );
        const data = (await v.data()) as Float32Array;
        v.dispose();
        await store.writeFeatures(
          pid,
          pooledId,
          k,
          { data, shape: [1, 1, 1, data.length] },
          { ...meta, pooled: { of: id, bins: POOLED.bins, pooling: "max" } },
          { expectSourceHash: sourceHash, signal: o.signal },
        );
      };
      // the density channel alone, what the default head reads (kilobytes, not the maps' megabytes)
      const writeDensity = async (
        f: { data: Float32Array; shape: [number, number, number, number] },
        k: number,
      ) => {
        if (!densityId) return;
        const [z, y, x, c] = f.shape;
        const data = new Float32Array(z * y * x);
        for (let i = 0; i < data.length; i++) data[i] = f.data[i * c + c - 1];
        await store.writeFeatures(
          pid,
          densityId,
          k,
          { data, shape: [z, y, x, 1] },
          { ...meta, channels: 1, density: { of: id, channel: c - 1 } },
          { expectSourceHash: sourceHash, signal: o.signal },
        );
      };
      try {
        const attrs = await store.getPatient(pid);
        if (!attrs)
          throw new PatchStreamError(
            "UNKNOWN_PATIENT",
            `patient ${pid} is not in the store ${o.store}`,
            { patientId: pid, store: o.store },
          );
        sourceHash = attrs.sourceHash;
        const sets = await store.listFeatures(pid);
        const have = new Set(sets.find((f) => f.encoderId === id)?.symmetries ?? []);
        const havePooled = new Set(sets.find((f) => f.encoderId === pooledId)?.symmetries ?? []);
        // maps stored by an earlier version without their pooled vectors: pool them from the store
        const haveDensity = new Set(sets.find((f) => f.encoderId === densityId)?.symmetries ?? []);
        for (const k of syms.filter(
          (k) => have.has(k) && (!havePooled.has(k) || (densityId && !haveDensity.has(k))),
        )) {
          const f = await store.readFeatures(pid, id, k, { signal: o.signal });
          if (f && !havePooled.has(k)) await writePooled(f, k);
          if (f && !haveDensity.has(k)) await writeDensity(f, k);
        }
        const todo = syms.filter((k) => !have.has(k));
        if (todo.length < syms.length) {
          report.skipped += syms.length - todo.length;
          o.onEvent?.({
            type: "skip",
            patientId: pid,
            symmetries: syms.filter((k) => have.has(k)),
          });
        }
        if (todo.length === 0) continue;
        const vol = await classifierVolume(store, attrs, input.region, o.signal);
        for (const k of todo) {
          o.signal?.throwIfAborted();
          const t1 = performance.now();
          const s = applySymmetry(vol.data, vol.shape, k);
          let f = await tiler.encode(s.data, s.shape, { tile, signal: o.signal });
          if (input.density > 0)
            f = concatChannels(
              f,
              densityMap(s.data, s.shape, tiler.geometry.stride, input.density),
            );
          await store.writeFeatures(pid, id, k, f, meta, {
            expectSourceHash: attrs.sourceHash,
            signal: o.signal,
          });
          await writePooled(f, k);
          await writeDensity(f, k);
          report.written++;
          o.onEvent?.({
            type: "done",
            patientId: pid,
            symmetry: k,
            shape: f.shape,
            seconds: (performance.now() - t1) / 1000,
          });
        }
      } catch (err) {
        if (o.signal?.aborted) throw err;
        const error = err instanceof Error ? err : new Error(String(err));
        report.failed.push({ patientId: pid, error });
        o.onEvent?.({ type: "failed", patientId: pid, error });
      }
    }
  } finally {
    tiler.dispose();
    await lock.release();
  }
  report.seconds = (performance.now() - t0) / 1000;
  o.onEvent?.({
    type: "finished",
    encoderId: id,
    written: report.written,
    skipped: report.skipped,
    failed: report.failed.length,
    seconds: report.seconds,
  });
  return report;
}
