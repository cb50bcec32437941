import type { Vec3 } from "@lungflow/volume";
import { PatchStreamError } from "./errors.js";

/**
 * Where the patch stream reads patients: a patch store directory (each worker opens it and
 * keeps its own cache of decoded volumes), or volumes held in memory, shared with the
 * workers through `SharedArrayBuffer` (tests, notebooks, data made on the fly).
 */
export type PatchSource = string | MemorySource;

/** In-memory patients; build it with {@link memorySource}. */
export interface MemorySource {
  kind: "memory";
  patients: MemoryPatient[];
}

/** One in-memory patient: arrays backed by `SharedArrayBuffer`. */
export interface MemoryPatient {
  id: string;
  shape: Vec3;
  hu: Int16Array;
  mask?: Uint8Array;
  label?: 0 | 1;
}

/** What the main thread knows of a patient (enough to plan an epoch). */
export interface PatientInfo {
  id: string;
  shape: Vec3;
  label?: 0 | 1;
}

function shared<T extends Int16Array | Uint8Array>(a: T): T {
  if (a.buffer instanceof SharedArrayBuffer) return a;
  const C = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new C(new SharedArrayBuffer(a.byteLength));
  out.set(a as ArrayLike<number> as never);
  return out;
}

/**
 * Wraps in-memory volumes as a patch source (copies them into shared memory once, so the
 * workers read them without copies).
 *
 * ```ts
 * const src = memorySource([{ id: "p1", hu: { data: huInt16, shape: [40, 64, 64] }, mask: maskUint8, label: 1 }]);
 * ```
 */
export function memorySource(
  patients: readonly {
    id: string;
    hu: { data: Int16Array; shape: readonly number[] };
    mask?: Uint8Array | { data: Uint8Array };
    label?: 0 | 1;
  }[],
): MemorySource {
  return {
    kind: "memory",
    patients: patients.map((p) => {
      const mask = p.mask ? ("data" in p.mask ? p.mask.data : p.mask) : undefined;
      const n = p.hu.shape[0] * p.hu.shape[1] * p.hu.shape[2];
      if (p.hu.shape.length !== 3 || p.hu.data.length !== n || (mask && mask.length !== n)) {
        throw new PatchStreamError(
          "BAD_OPTION",
          `memorySource: patient ${p.id} has ${p.hu.data.length} HU voxels${mask ? ` and ${mask.length} mask voxels` : ""} for shape ${p.hu.shape.join("x")}`,
          {
            patientId: p.id,
          },
        );
      }
      return {
        id: p.id,
        shape: [...p.hu.shape] as Vec3,
        hu: shared(p.hu.data),
        mask: mask ? shared(mask) : undefined,
        label: p.label,
      };
    }),
  };
}

/** The serialisable form a worker task carries: the store path, or the memory patients it needs. */
export type SourceSpec = { kind: "store"; path: string } | MemorySource;

/** The spec of `source` restricted to the patients `ids` (memory sources). */
export function sourceSpec(source: PatchSource, ids?: Iterable<string>): SourceSpec {
  if (typeof source === "string") return { kind: "store", path: source };
  if (!ids) return source;
  const want = new Set(ids);
  return { kind: "memory", patients: source.patients.filter((p) => want.has(p.id)) };
}
