import { type WasmVolume, wasmVolume } from "@lungflow/patch-kernels";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";
import { PatchStreamError } from "./errors.js";
import { regionHu } from "./region-hu.js";
import type { SourceSpec } from "./source.js";

/** A patient's arrays as a worker holds them. */
export interface LoadedPatient {
  id: string;
  shape: Vec3;
  hu?: Int16Array;
  mask?: Uint8Array;
  /** The HU volume in wasm memory (when asked for and wasm SIMD is available). */
  wasm?: WasmVolume;
}

/** What a task needs of a patient. `wasm` > 0: the HU volume in wasm memory with room for patches of that many voxels. */
export interface Needs {
  hu: boolean;
  mask: boolean;
  wasm?: number;
}

type Entry = { shape: Vec3; data?: Int16Array | Uint8Array; wasm?: WasmVolume; bytes: number };

const stores = new Map<string, Promise<PatchStore>>();
// Decoded arrays by `${source}\0${id}\0${array}`, least recently used first.
const cache = new Map<string, Entry>();
let cachedBytes = 0;
// The first view of each shared in-memory array this worker received (a pool serves one source).
const memoryViews = new Map<string, Int16Array | Uint8Array>();

/** Bytes of decoded volumes this worker holds (for stats and tests). */
export function cacheBytes(): number {
  return cachedBytes;
}

function store(path: string): Promise<PatchStore> {
  let s = stores.get(path);
  if (!s) {
    // The worker keeps whole volumes; the store's own chunk cache would only duplicate them.
    s = openStore(path, { cacheBytes: 0 });
    s.catch(() => stores.delete(path));
    stores.set(path, s);
  }
  return s;
}

// Loads in progress, shared by the tasks that ask for the same array meanwhile.
const loading = new Map<string, Promise<Entry>>();

async function cached(key: string, budget: number, load: () => Promise<Entry>): Promise<Entry> {
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const pending = loading.get(key);
  if (pending) return pending;
  const p = load();
  loading.set(key, p);
  let entry: Entry;
  try {
    entry = await p;
  } finally {
    loading.delete(key);
  }
  if (entry.bytes <= budget) {
    // Evict least recently used arrays until the new one fits the budget.
    for (const [k, v] of cache) {
      if (cachedBytes + entry.bytes <= budget) break;
      cache.delete(k);
      cachedBytes -= v.bytes;
    }
    cache.set(key, entry);
    cachedBytes += entry.bytes;
  }
  return entry;
}

/** A memory patient missing from the task's source spec (the main thread sends the batch's patients). */
function notSent(id: string): PatchStreamError {
  return new PatchStreamError("UNKNOWN_PATIENT", `patient ${id} was not sent to the worker`, {
    patientId: id,
  });
}

function checkShape(
  id: string,
  shape: Vec3,
  a: { length: number } | undefined,
  what: string,
): void {
  const n = shape[0] * shape[1] * shape[2];
  if (a && a.length !== n)
    throw new PatchStreamError(
      "BAD_ARRAY",
      `patient ${id}: ${what} has ${a.length} voxels, shape ${shape.join("x")} needs ${n}`,
      { patientId: id, array: what, voxels: a.length, shape },
    );
}

async function readArray(
  source: SourceSpec,
  id: string,
  array: "hu" | "mask",
): Promise<{ shape: Vec3; data: Int16Array | Uint8Array }> {
  if (source.kind === "memory") {
    const p = source.patients.find((q) => q.id === id);
    if (!p) throw notSent(id);
    const data = array === "hu" ? p.hu : p.mask;
    if (!data)
      throw new PatchStreamError("BAD_ARRAY", `patient ${id} has no ${array} array`, {
        patientId: id,
        array,
      });
    checkShape(id, p.shape, data, array);
    // Every task brings new views of the same shared memory; keep the first, so that what
    // is cached on the array (the samplers' voxel indices) is found again.
    const key = `${id}\0${array}\0${data.length}`;
    const first = memoryViews.get(key);
    if (first) return { shape: p.shape, data: first };
    memoryViews.set(key, data);
    return { shape: p.shape, data };
  }
  const vol = await (await store(source.path)).readVolume(id, array as "hu");
  checkShape(id, vol.shape, vol.data, `${array} of ${source.path}`);
  return { shape: vol.shape, data: vol.data };
}

/** One array as decoded: shared in place for memory sources, through the LRU cache for stores. */
async function plainArray(
  source: SourceSpec,
  tag: string,
  id: string,
  array: "hu" | "mask",
  budget: number,
): Promise<{ shape: Vec3; data?: Int16Array | Uint8Array }> {
  if (source.kind === "memory") return readArray(source, id, array);
  return cached(`${tag}\0${id}\0${array}`, budget, async () => {
    const v = await readArray(source, id, array);
    return { ...v, bytes: v.data.byteLength };
  });
}

/**
 * The arrays of patient `id` that `needs` asks for. Store volumes are decoded once and kept
 * in this worker's LRU cache (`budget` bytes), so the patches of a round of patients are
 * cut from memory. Memory sources are shared and read in place, except for the copy into
 * wasm memory, which is cached like a decoded volume.
 */
export async function loadPatient(
  source: SourceSpec,
  id: string,
  needs: Needs,
  budget: number,
): Promise<LoadedPatient> {
  const tag = source.kind === "memory" ? "memory" : source.path;
  const out: LoadedPatient = { id, shape: [0, 0, 0] };
  if (needs.hu && needs.wasm) {
    const per = needs.wasm;
    const e = await cached(`${tag}\0${id}\0hu-wasm`, budget, async () => {
      const v = await readArray(source, id, "hu");
      const w = wasmVolume(v.data as Int16Array, v.shape, per);
      return w
        ? { shape: v.shape, wasm: w, bytes: w.bytes }
        : { shape: v.shape, data: v.data, bytes: source.kind === "memory" ? 0 : v.data.byteLength };
    });
    if (e.wasm && e.wasm.patchVoxels < per) {
      cache.delete(`${tag}\0${id}\0hu-wasm`);
      cachedBytes -= e.bytes;
      return loadPatient(source, id, needs, budget);
    }
    out.shape = e.shape;
    out.wasm = e.wasm;
    if (!e.wasm) out.hu = e.data as Int16Array;
  } else if (needs.hu) {
    const e = await plainArray(source, tag, id, "hu", budget);
    out.shape = e.shape;
    out.hu = e.data as Int16Array;
  }
  if (needs.mask) {
    const e = await plainArray(source, tag, id, "mask", budget);
    out.shape = e.shape;
    out.mask = e.data as Uint8Array;
  }
  if (!needs.hu && !needs.mask) {
    if (source.kind === "memory") {
      const p = source.patients.find((q) => q.id === id);
      if (!p) throw notSent(id);
      out.shape = p.shape;
    } else {
      const attrs = await (await store(source.path)).getPatient(id);
      if (!attrs)
        throw new PatchStreamError("UNKNOWN_PATIENT", `patient ${id} is not in ${source.path}`, {
          patientId: id,
          store: source.path,
        });
      out.shape = attrs.shape;
    }
  }
  return out;
}

/**
 * Patient `id`'s HU with every voxel outside its lung region (`lungRegion` of the stored
 * mask and Otsu threshold) set to -1000 (air), as the classifier sees it; cached like a
 * decoded volume. Store sources only: a memory patient carries no Otsu threshold.
 */
export async function loadRegionHu(
  source: SourceSpec,
  id: string,
  budget: number,
): Promise<{ shape: Vec3; hu: Int16Array }> {
  if (source.kind === "memory")
    throw new PatchStreamError(
      "BAD_OPTION",
      `patient ${id}: the lung region needs a store (its Otsu threshold); a memory source has none (pass region: false)`,
      { patientId: id },
    );
  const e = await cached(`${source.path}\0${id}\0hu-region`, budget, async () => {
    const st = await store(source.path);
    const attrs = await st.getPatient(id);
    if (!attrs)
      throw new PatchStreamError("UNKNOWN_PATIENT", `patient ${id} is not in ${source.path}`, {
        patientId: id,
        store: source.path,
      });
    const hu = await readArray(source, id, "hu");
    const mask = await readArray(source, id, "mask");
    // a copy: the plain HU may sit in this cache too
    const data = regionHu(
      (hu.data as Int16Array).slice(),
      hu.shape,
      mask.data as Uint8Array,
      attrs,
    );
    return { shape: hu.shape, data, bytes: data.byteLength };
  });
  return { shape: e.shape, hu: e.data as Int16Array };
}
