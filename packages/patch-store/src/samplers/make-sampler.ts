import { balancedSampler } from "./balanced.js";
import { SamplerError } from "./errors.js";
import { gridSampler } from "./grid.js";
import { lungSampler } from "./lung.js";
import type { PatchSampler, SamplerSpec } from "./types.js";
import { uniformSampler } from "./uniform.js";

/**
 * Rebuilds a sampler from its serialisable spec (`sampler.spec`): how a worker thread gets
 * the sampler the main thread was configured with.
 *
 * ```ts
 * makeSampler({ name: "lung", size: 32 });
 * ```
 */
export function makeSampler(spec: SamplerSpec): PatchSampler {
  switch (spec?.name) {
    case "grid":
      return gridSampler(spec);
    case "uniform":
      return uniformSampler(spec);
    case "lung":
      return lungSampler(spec);
    case "balanced":
      return balancedSampler(spec);
    default:
      throw new SamplerError(
        "BAD_OPTION",
        `unknown sampler ${JSON.stringify((spec as { name?: unknown })?.name)}: use grid, uniform, lung or balanced`,
        {
          sampler: (spec as { name?: unknown })?.name,
        },
      );
  }
}
