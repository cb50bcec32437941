import { openStore, type PatchStore } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";
import type { SourceSpec } from "./source.js";

/** A patient's arrays as a worker holds them. */
export interface LoadedPatient {
  id: string;
  shape: Vec3;
  hu?: Int16Array;
  mask?: Uint8Array;
}

const stores = new Map<string, Promise<PatchStore>>();
// Decoded volumes by `${path}\0${id}\0${array}`, least recently used first.
const volumes = new Map<string, { shape: Vec3; data: Int16Array | Uint8Array }>();
let cachedBytes = 0;

/** Bytes of decoded volumes this worker holds (for stats and tests). */
export function cacheBytes(): number {
  return cachedBytes;
}

function store(path: string): Promise<PatchStore> {
  let s = stores.get(path);
  if (!s) {
    s = openStore(path, { cacheBytes: 0 });
    s.catch(() => stores.delete(path));
    stores.set(path, s);
  }
  return s;
}

async function readArray(path: string, id: string, array: "hu" | "mask", budget: number) {
  const key = `${path}\0${id}\0${array}`;
  const hit = volumes.get(key);
  if (hit) {
    volumes.delete(key);
    volumes.set(key, hit);
    return hit;
  }
  const vol = await (await store(path)).readVolume(id, array as "hu");
  const entry = { shape: vol.shape, data: vol.data as Int16Array | Uint8Array };
  const bytes = entry.data.byteLength;
  if (bytes <= budget) {
    // Evict least recently used volumes until the new one fits the budget.
    for (const [k, v] of volumes) {
      if (cachedBytes + bytes <= budget) break;
      volumes.delete(k);
      cachedBytes -= v.data.byteLength;
    }
    volumes.set(key, entry);
    cachedBytes += bytes;
  }
  return entry;
}

/**
 * The arrays of patient `id` that `needs` asks for. Store volumes are decoded once and kept
 * in this worker's LRU cache (`cacheBytes` budget), so the patches of a round of patients
 * are cut from memory; memory sources are shared and need no cache.
 */
export async function loadPatient(
  source: SourceSpec,
  id: string,
  needs: { hu: boolean; mask: boolean },
  budget: number,
): Promise<LoadedPatient> {
  if (source.kind === "memory") {
    const p = source.patients.find((q) => q.id === id);
    if (!p) throw new Error(`patient ${id} was not sent to the worker`);
    const n = p.shape[0] * p.shape[1] * p.shape[2];
    if (p.hu.length !== n || (p.mask && p.mask.length !== n)) {
      throw new Error(
        `patient ${id}: arrays of ${p.hu.length} voxels do not match shape ${p.shape.join("x")}`,
      );
    }
    return {
      id,
      shape: p.shape,
      hu: needs.hu ? p.hu : undefined,
      mask: needs.mask ? p.mask : undefined,
    };
  }
  const out: LoadedPatient = { id, shape: [0, 0, 0] };
  if (needs.hu) {
    const v = await readArray(source.path, id, "hu", budget);
    out.hu = v.data as Int16Array;
    out.shape = v.shape;
  }
  if (needs.mask) {
    const v = await readArray(source.path, id, "mask", budget);
    out.mask = v.data as Uint8Array;
    out.shape = v.shape;
  }
  if (!needs.hu && !needs.mask) {
    const attrs = await (await store(source.path)).getPatient(id);
    if (!attrs) throw new Error(`patient ${id} is not in ${source.path}`);
    out.shape = attrs.shape;
  }
  return out;
}
