import type { Vec3 } from "@lungflow/volume";

/**
 * Where a patch comes from: its patient and the box in the patient's stored (source) voxels.
 * `origin` is the first voxel `[z, y, x]` and may lie outside the volume (patches centred
 * near the border); voxels outside read as air (-1000 HU) and mask 0.
 */
export interface PatchLocation {
  patientId: string;
  origin: Vec3;
  size: Vec3;
}

/**
 * What a sampler sees of one patient. `mask` (the tight lung mask, 0/1) and `hu` are only
 * needed by the samplers that say so in {@link PatchSampler.needs}.
 */
export interface SamplerPatient {
  id: string;
  /** `[Z, Y, X]` of the stored arrays. */
  shape: Vec3;
  mask?: Uint8Array;
  hu?: Int16Array;
}

/** Options common to every sampler. */
export interface BaseSamplerOptions {
  /** Patch size `[d, h, w]` in voxels, or one number for a cube (kdsb17: 32). */
  size: number | Vec3;
}

/** Serialisable description of a sampler: its name and options (crosses to workers). */
export type SamplerSpec =
  | ({ name: "grid" } & import("./grid.js").GridSamplerOptions)
  | ({ name: "uniform" } & import("./uniform.js").UniformSamplerOptions)
  | ({ name: "lung" } & import("./lung.js").LungSamplerOptions)
  | ({ name: "balanced" } & import("./balanced.js").BalancedSamplerOptions);

/**
 * A patch sampler: a generator of locations over one patient, kept apart from the queue
 * (as TorchIO does). Random samplers yield without end unless `count` is given; exhaustive
 * ones (grid) yield a fixed set and ignore `count` and `seed`.
 */
export interface PatchSampler {
  /** The options it was made with; `makeSampler(spec)` rebuilds it (inside a worker). */
  readonly spec: SamplerSpec;
  /** Patch size `[d, h, w]`. */
  readonly size: Vec3;
  /** Which arrays `sample` reads besides the shape. */
  readonly needs: { mask: boolean; hu: boolean };
  /** True when the sampler yields a fixed set of locations per patient (grid tiling). */
  readonly exhaustive: boolean;
  sample(
    patient: SamplerPatient,
    opts?: { seed?: number; count?: number },
  ): Generator<PatchLocation>;
}
