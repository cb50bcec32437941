import { createRng } from "@lungflow/volume";
import { centredOrigin, checkPatient, patchSize } from "./check.js";
import { SamplerError } from "./errors.js";
import { lungSampler } from "./lung.js";
import type { BaseSamplerOptions, PatchLocation, PatchSampler, SamplerPatient } from "./types.js";
import { nthVoxel, voxelIndex } from "./voxel-index.js";

/** Options of {@link balancedSampler}. */
export interface BalancedSamplerOptions extends BaseSamplerOptions {
  /** Fraction of patches centred on bright voxels of the lung mask (default 0.5). */
  brightFraction?: number;
  /** HU above which a lung voxel counts as bright: vessels, nodules, airway walls (default -400). */
  threshold?: number;
}

/**
 * Like {@link lungSampler}, but a set fraction of the patches is centred on bright
 * structures inside the lung mask (HU above `threshold`): in a lung, dense voxels are rare
 * (vessels, nodules), and an autoencoder trained on plain lung draws sees little of them.
 * Each draw picks bright with probability `brightFraction`; a patient with no bright voxel
 * gets lung draws only.
 */
export function balancedSampler(options: BalancedSamplerOptions): PatchSampler {
  const size = patchSize("balanced", options.size);
  const fraction = options.brightFraction ?? 0.5;
  const threshold = options.threshold ?? -400;
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new SamplerError(
      "BAD_OPTION",
      `balanced sampler: brightFraction must be in [0, 1], got ${fraction}`,
      {
        sampler: "balanced",
      },
    );
  }
  if (!Number.isFinite(threshold)) {
    throw new SamplerError(
      "BAD_OPTION",
      `balanced sampler: threshold must be a number of HU, got ${threshold}`,
      {
        sampler: "balanced",
      },
    );
  }
  const needs = { mask: true, hu: true };
  const lung = lungSampler({ size });
  return {
    spec: { name: "balanced", ...options },
    size,
    needs,
    exhaustive: false,
    *sample(
      patient: SamplerPatient,
      opts: { seed?: number; count?: number } = {},
    ): Generator<PatchLocation> {
      checkPatient("balanced", patient, needs);
      const mask = patient.mask!;
      const hu = patient.hu!;
      const all = voxelIndex(patient.shape, mask);
      const bright = voxelIndex(patient.shape, mask, hu, threshold);
      if (all.total === 0) {
        yield* lung.sample(patient, opts);
        return;
      }
      const rng = createRng(opts.seed ?? 0);
      const count = opts.count ?? Number.POSITIVE_INFINITY;
      for (let i = 0; i < count; i++) {
        const useBright = rng.next() < fraction && bright.total > 0;
        const c = useBright
          ? nthVoxel(bright, rng.int(bright.total), mask, hu)
          : nthVoxel(all, rng.int(all.total), mask);
        yield { patientId: patient.id, origin: centredOrigin(c, size), size };
      }
    },
  };
}
