import type { Vec3 } from "@lungflow/volume";
import { checkPatient, patchSize } from "./check.js";
import { SamplerError } from "./errors.js";
import type { BaseSamplerOptions, PatchLocation, PatchSampler, SamplerPatient } from "./types.js";

/** Options of {@link gridSampler}. */
export interface GridSamplerOptions extends BaseSamplerOptions {
  /** Step between tiles in voxels (default: the size, i.e. non-overlapping tiles). */
  stride?: number | Vec3;
  /**
   * What to do where the volume is not a multiple of the stride:
   * - `"pad"` (default): add tiles past the end, filled with air, so every voxel is covered;
   * - `"shift"`: move the last tile back inside the volume (it overlaps its neighbour);
   * - `"drop"`: keep only tiles fully inside (kdsb17's tiling: the remainder is ignored).
   */
  remainder?: "pad" | "shift" | "drop";
}

function starts(n: number, s: number, t: number, remainder: "pad" | "shift" | "drop"): number[] {
  const out: number[] = [];
  if (remainder === "pad") {
    for (let o = 0; o < n; o += t) out.push(o);
    return out;
  }
  for (let o = 0; o + s <= n; o += t) out.push(o);
  if (remainder === "shift") {
    if (n < s) out.push(0);
    else if (out[out.length - 1] + s < n) out.push(n - s);
  }
  return out;
}

/**
 * Tiles every lung volume with patches on a regular grid, in C order (z, then y, then x),
 * as kdsb17 cut its training patches. Exhaustive: `seed` and `count` are ignored; the queue's
 * shuffle buffer mixes the tiles.
 *
 * ```ts
 * const tiles = [...gridSampler({ size: 32 }).sample({ id: "p1", shape: [70, 64, 64] })];
 * tiles.length; // 3 * 2 * 2 (the last z tiles are padded with air)
 * ```
 */
export function gridSampler(options: GridSamplerOptions): PatchSampler {
  const size = patchSize("grid", options.size);
  const stride = patchSize("grid", options.stride ?? size);
  const remainder = options.remainder ?? "pad";
  if (!["pad", "shift", "drop"].includes(remainder)) {
    throw new SamplerError(
      "BAD_OPTION",
      `grid sampler: remainder must be pad, shift or drop, got ${remainder}`,
      {
        sampler: "grid",
      },
    );
  }
  const needs = { mask: false, hu: false };
  return {
    spec: { name: "grid", ...options },
    size,
    needs,
    exhaustive: true,
    *sample(patient: SamplerPatient): Generator<PatchLocation> {
      checkPatient("grid", patient, needs);
      const [zs, ys, xs] = [0, 1, 2].map((a) =>
        starts(patient.shape[a], size[a], stride[a], remainder),
      );
      for (const z of zs)
        for (const y of ys)
          for (const x of xs) yield { patientId: patient.id, origin: [z, y, x], size };
    },
  };
}
