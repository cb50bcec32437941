import { LungflowError } from "@lungflow/volume";

/**
 * Stable codes of {@link SamplerError}.
 * - `BAD_OPTION`: an option out of range (patch size not a positive integer, fraction
 *   outside [0, 1], unknown sampler name...).
 * - `MISSING_ARRAY`: the sampler needs the patient's mask (or HU) and none was given.
 * - `BAD_SHAPE`: an array's length does not match the patient's shape.
 */
export type SamplerErrorCode = "BAD_OPTION" | "MISSING_ARRAY" | "BAD_SHAPE";

/** A sampler was misconfigured or fed an inconsistent patient. Context names the sampler and patient. */
export class SamplerError extends LungflowError {
  declare readonly code: SamplerErrorCode;
  constructor(code: SamplerErrorCode, message: string, context: Record<string, unknown> = {}) {
    super("SamplerError", code, message, context);
  }
}
