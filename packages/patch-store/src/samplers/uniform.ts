import type { Vec3 } from "@lungflow/volume";
import { createRng } from "@lungflow/volume";
import { checkPatient, patchSize } from "./check.js";
import type { BaseSamplerOptions, PatchLocation, PatchSampler, SamplerPatient } from "./types.js";

/** Options of {@link uniformSampler}. */
export interface UniformSamplerOptions extends BaseSamplerOptions {}

/**
 * Patch origins drawn uniformly so that the patch lies inside the volume (along an axis
 * shorter than the patch, the patch is centred and padded with air). Like TorchIO's
 * `UniformSampler`.
 *
 * ```ts
 * const s = uniformSampler({ size: 32 });
 * const five = [...s.sample({ id: "p1", shape: [80, 120, 140] }, { seed: 1, count: 5 })];
 * ```
 */
export function uniformSampler(options: UniformSamplerOptions): PatchSampler {
  const size = patchSize("uniform", options.size);
  const needs = { mask: false, hu: false };
  return {
    spec: { name: "uniform", ...options },
    size,
    needs,
    exhaustive: false,
    *sample(
      patient: SamplerPatient,
      opts: { seed?: number; count?: number } = {},
    ): Generator<PatchLocation> {
      checkPatient("uniform", patient, needs);
      const rng = createRng(opts.seed ?? 0);
      const count = opts.count ?? Number.POSITIVE_INFINITY;
      for (let i = 0; i < count; i++) {
        const origin = [0, 1, 2].map((a) => {
          const room = patient.shape[a] - size[a];
          return room >= 0 ? rng.int(room + 1) : Math.floor(room / 2);
        }) as Vec3;
        yield { patientId: patient.id, origin, size };
      }
    },
  };
}
