/**
 * Piscina worker of the patch stream (loaded from dist). Three tasks:
 * - `sample`: run a sampler over one patient (reads the mask/HU it needs) -> origins;
 * - `patches`: cut, augment and normalise a batch of patches -> one Float32Array, moved;
 * - `volume`: augment and normalise a whole lung volume (classifier) -> Float32Array, moved.
 * Parameters are drawn from per-patch seeds, so results do not depend on which worker runs.
 */
import {
  augmentInto,
  augmentIntoWasm,
  augmentManyNative,
  kernelNorm,
  nativeKernel,
  type PatchJob,
} from "@lungflow/patch-kernels";
import { makeSampler, type SamplerSpec } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";
import { Piscina } from "piscina";
import { drawParams, type ResolvedAugment } from "./augment.js";
import { CancelRing } from "./cancel-ring.js";
import { PatchStreamError } from "./errors.js";
import type { SourceSpec } from "./source.js";
import { type LoadedPatient, loadPatient, loadRegionHu } from "./worker-cache.js";

/** What every task carries besides its kind. */
export interface TaskBase {
  /** Set by `PatchPool.run`: the task's id in the pool's cancellation ring. */
  id?: number;
}

export interface SampleTask extends TaskBase {
  kind: "sample";
  source: SourceSpec;
  patientId: string;
  shape: Vec3;
  sampler: SamplerSpec;
  seed: number;
  count: number;
  cacheBytes: number;
}

export interface PatchesTask extends TaskBase {
  kind: "patches";
  source: SourceSpec;
  size: Vec3;
  /** The batch's distinct patients. */
  patients: string[];
  /** Per patch, its patient's index in `patients`. */
  patientIndex: Uint32Array;
  /** Origins, 3 per patch. */
  origins: Int32Array;
  /** Per-patch seeds. */
  seeds: Uint32Array;
  /** A buffer the consumer is done with, to fill instead of allocating (moved in and out). */
  out?: ArrayBuffer;
  /**
   * The shared batch buffer to fill (an index into the stream's `workerData.slots`); the
   * reply is then this number, nothing moves.
   */
  slot?: number;
  augment: ResolvedAugment;
  cacheBytes: number;
  /** `"native"`, `"wasm"` or `"js"` (see PatchStreamOptions.kernel). */
  kernel: "native" | "wasm" | "js";
}

export interface VolumeTask extends TaskBase {
  kind: "volume";
  source: SourceSpec;
  patientId: string;
  seed: number;
  augment: ResolvedAugment;
  cacheBytes: number;
  /** Outside the lung region read as air (see loadRegionHu). */
  region?: boolean;
}

export type WorkerTask = SampleTask | PatchesTask | VolumeTask;

/** Marks `value` for transfer of `buffers` (top-level results only are moved by Piscina). */
function moved<T>(value: T, buffers: ArrayBuffer[]): T {
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return buffers;
    },
    get [Piscina.valueSymbol]() {
      return value;
    },
  } as never) as T;
}

let scratch: Int16Array | undefined;

const workerData = Piscina.workerData as
  | { slots?: SharedArrayBuffer[]; cancel?: Int32Array }
  | undefined;
/** The patch stream's shared batch buffers, handed to every worker at its start. */
const slots: SharedArrayBuffer[] = workerData?.slots ?? [];
/** The pool's cancellation ring (see CancelRing). */
const cancelRing = workerData?.cancel ? new CancelRing(workerData.cancel) : undefined;

/**
 * Stops a task whose caller dropped it (an epoch stopped early, a pool closing): called
 * between steps, so that the pool gets its reply soon and nothing more is written into
 * the batch buffer it was given.
 */
function checkCancelled(t: WorkerTask): void {
  if (t.id !== undefined && cancelRing?.cancelled(t.id))
    throw new PatchStreamError("ABORTED", `${t.kind} task cancelled`, { taskId: t.id });
}

async function runPatches(t: PatchesTask) {
  checkCancelled(t);
  const [d, h, w] = t.size;
  const per = d * h * w;
  const n = t.patientIndex.length;
  // Every element is written below, so a recycled buffer needs no clearing.
  const shared = t.slot === undefined ? undefined : slots[t.slot];
  if (t.slot !== undefined && !(shared && shared.byteLength >= n * per * 4))
    throw new PatchStreamError(
      "INTERNAL",
      `shared batch buffer ${t.slot} is missing or too small`,
      { slot: t.slot, bytes: shared?.byteLength, needed: n * per * 4 },
    );
  const out = shared
    ? new Float32Array(shared, 0, n * per)
    : t.out && t.out.byteLength >= n * per * 4
      ? new Float32Array(t.out, 0, n * per)
      : new Float32Array(n * per);
  if (!scratch || scratch.length !== per) scratch = new Int16Array(per);
  const norm = kernelNorm(t.augment.min, t.augment.max, t.augment.clip);
  // Patients of this batch, loaded once per task even when the cache budget cannot hold them.
  const loaded: LoadedPatient[] = [];
  for (const id of t.patients) {
    loaded.push(
      await loadPatient(
        t.source,
        id,
        { hu: true, mask: false, wasm: t.kernel === "js" ? 0 : per },
        t.cacheBytes,
      ),
    );
    checkCancelled(t);
  }
  const native = t.kernel === "native" ? nativeKernel() : null;
  let done: Uint8Array | undefined;
  if (native) {
    // One native call per patient of the batch; what it leaves (boxes beyond the air
    // border) goes through the loop below.
    done = new Uint8Array(n);
    for (let k = 0; k < loaded.length; k++) {
      checkCancelled(t);
      const w = loaded[k].wasm;
      if (!w) continue;
      const jobs: (PatchJob & { i: number })[] = [];
      for (let i = 0; i < n; i++) {
        if (t.patientIndex[i] !== k) continue;
        const { symmetry, offset } = drawParams(t.seeds[i], t.augment);
        const origin: Vec3 = [t.origins[3 * i], t.origins[3 * i + 1], t.origins[3 * i + 2]];
        jobs.push({ origin, sym: symmetry, offset, outOffset: i * per, i });
        done[i] = 1;
      }
      for (const j of augmentManyNative(native, w, t.size, jobs, norm, out))
        done[(j as PatchJob & { i: number }).i] = 0;
    }
  }
  for (let i = 0; i < n; i++) {
    if (done?.[i]) continue;
    checkCancelled(t);
    const p = loaded[t.patientIndex[i]];
    const origin: Vec3 = [t.origins[3 * i], t.origins[3 * i + 1], t.origins[3 * i + 2]];
    const { symmetry, offset } = drawParams(t.seeds[i], t.augment);
    if (p.wasm) augmentIntoWasm(p.wasm, origin, t.size, symmetry, offset, norm, out, i * per);
    else augmentInto(p.hu!, p.shape, origin, t.size, symmetry, offset, norm, out, i * per, scratch);
  }
  return shared ? t.slot : moved(out, [out.buffer as ArrayBuffer]);
}

async function runSample(t: SampleTask) {
  checkCancelled(t);
  const sampler = makeSampler(t.sampler);
  const p = await loadPatient(t.source, t.patientId, sampler.needs, t.cacheBytes);
  checkCancelled(t);
  const origins: number[] = [];
  for (const loc of sampler.sample({ ...p, id: t.patientId }, { seed: t.seed, count: t.count }))
    origins.push(...loc.origin);
  const arr = Int32Array.from(origins);
  return moved(arr, [arr.buffer]);
}

async function runVolume(t: VolumeTask) {
  checkCancelled(t);
  const p = t.region
    ? await loadRegionHu(t.source, t.patientId, t.cacheBytes)
    : await loadPatient(t.source, t.patientId, { hu: true, mask: false }, t.cacheBytes);
  checkCancelled(t);
  const { symmetry, offset } = drawParams(t.seed, t.augment);
  const out = new Float32Array(p.hu!.length);
  augmentInto(
    p.hu!,
    p.shape,
    [0, 0, 0],
    p.shape,
    symmetry,
    offset,
    kernelNorm(t.augment.min, t.augment.max, t.augment.clip),
    out,
    0,
  );
  return moved(out, [out.buffer as ArrayBuffer]);
}

export default async function run(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case "patches":
      return runPatches(task);
    case "sample":
      return runSample(task);
    case "volume":
      return runVolume(task);
  }
}
