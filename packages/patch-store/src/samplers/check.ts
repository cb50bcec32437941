import type { Vec3 } from "@lungflow/volume";
import { SamplerError } from "./errors.js";
import type { SamplerPatient } from "./types.js";

/** Validates a patch size option and returns it as `[d, h, w]`. */
export function patchSize(sampler: string, size: number | readonly number[]): Vec3 {
  const s = (typeof size === "number" ? [size, size, size] : [...size]) as Vec3;
  if (s.length !== 3 || !s.every((v) => Number.isInteger(v) && v > 0)) {
    throw new SamplerError(
      "BAD_OPTION",
      `${sampler} sampler: size must be a positive integer or 3 of them, got ${JSON.stringify(size)}`,
      {
        sampler,
        size,
      },
    );
  }
  return s;
}

/** Checks the shape and the arrays a sampler needs. */
export function checkPatient(
  sampler: string,
  p: SamplerPatient,
  needs: { mask: boolean; hu: boolean },
): void {
  const n = p.shape[0] * p.shape[1] * p.shape[2];
  if (!p.shape.every((v) => Number.isInteger(v) && v > 0)) {
    throw new SamplerError(
      "BAD_SHAPE",
      `${sampler} sampler: patient ${p.id} has shape ${p.shape.join("x")}`,
      {
        sampler,
        patientId: p.id,
      },
    );
  }
  for (const k of ["mask", "hu"] as const) {
    const a = p[k];
    if (needs[k] && !a) {
      throw new SamplerError(
        "MISSING_ARRAY",
        `${sampler} sampler needs the ${k} of patient ${p.id}`,
        {
          sampler,
          patientId: p.id,
          array: k,
        },
      );
    }
    if (a && a.length !== n) {
      throw new SamplerError(
        "BAD_SHAPE",
        `${sampler} sampler: ${k} of patient ${p.id} has ${a.length} voxels, shape ${p.shape.join("x")} needs ${n}`,
        {
          sampler,
          patientId: p.id,
          array: k,
        },
      );
    }
  }
}

/** The origin that centres a patch of `size` on voxel `c`. */
export function centredOrigin(c: Vec3, size: Vec3): Vec3 {
  return [c[0] - (size[0] >> 1), c[1] - (size[1] >> 1), c[2] - (size[2] >> 1)];
}
