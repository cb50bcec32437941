import { createRng } from "@lungflow/volume";
import { centredOrigin, checkPatient, patchSize } from "./check.js";
import type { BaseSamplerOptions, PatchLocation, PatchSampler, SamplerPatient } from "./types.js";
import { uniformSampler } from "./uniform.js";
import { nthVoxel, voxelIndex } from "./voxel-index.js";

/** Options of {@link lungSampler}. */
export interface LungSamplerOptions extends BaseSamplerOptions {}

/**
 * Patch centres drawn uniformly from the voxels of the tight lung mask (TorchIO's
 * `LabelSampler` with one label), so patches show lung tissue rather than the air and
 * chest wall of the crop box. The patch is centred on the voxel (origin = centre - size/2)
 * and may reach past the volume, where it reads air. A patient with an empty mask falls
 * back to uniform draws.
 */
export function lungSampler(options: LungSamplerOptions): PatchSampler {
  const size = patchSize("lung", options.size);
  const needs = { mask: true, hu: false };
  const fallback = uniformSampler({ size });
  return {
    spec: { name: "lung", ...options },
    size,
    needs,
    exhaustive: false,
    *sample(
      patient: SamplerPatient,
      opts: { seed?: number; count?: number } = {},
    ): Generator<PatchLocation> {
      checkPatient("lung", patient, needs);
      const mask = patient.mask!;
      const idx = voxelIndex(patient.shape, mask);
      if (idx.total === 0) {
        yield* fallback.sample(patient, opts);
        return;
      }
      const rng = createRng(opts.seed ?? 0);
      const count = opts.count ?? Number.POSITIVE_INFINITY;
      for (let i = 0; i < count; i++) {
        const c = nthVoxel(idx, rng.int(idx.total), mask);
        yield { patientId: patient.id, origin: centredOrigin(c, size), size };
      }
    },
  };
}
