/**
 * The scan geometry of a phantom (shape, spacing, body frame) from its options: the mini
 * preset's fixed defaults, or the realistic preset's per-patient draws. Cheap: no voxels.
 */
import type { BodyFrame } from "./anatomy.js";
import { drawRealistic } from "./realistic.js";
import type { PhantomOptions, PhantomPreset } from "./types.js";

/** Geometry of one phantom, as {@link makePhantom} will make it. */
export interface PhantomGeometry {
  preset: PhantomPreset;
  /** [slices, rows, columns]. */
  shape: [number, number, number];
  /** [dz, dy, dx] mm. */
  spacing: [number, number, number];
  /** Field of view: columns x pixel spacing (mm). */
  fovMm: number;
  /** Realistic preset: the body's size and position and the lungs' z range. */
  frame?: BodyFrame;
}

/** Throws a RangeError naming the option unless `v` is in [lo, hi] (and an integer if asked). */
export function checkRange(name: string, v: number, lo: number, hi: number, integer = false) {
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new RangeError(
      `phantom: ${name} must be ${integer ? "an integer " : ""}in [${lo}, ${hi}], got ${v}`,
    );
  }
  return v;
}

/**
 * Resolves the geometry `makePhantom(opts)` uses: explicit options win; otherwise the
 * preset decides (mini: 48 x 96 x 96 at 0.7 / 1.25 mm; realistic: drawn from the seed,
 * see {@link REALISTIC_PRESET}).
 *
 * @throws RangeError for options out of range (the message names the option).
 */
export function phantomGeometry(opts: PhantomOptions): PhantomGeometry {
  const preset = opts.preset ?? "mini";
  if (preset !== "mini" && preset !== "realistic")
    throw new RangeError(`phantom: preset must be "mini" or "realistic", got ${String(preset)}`);
  const seed = checkRange("seed", opts.seed, 0, 2 ** 53, true);
  const opt = (name: string, v: number | undefined, lo: number, hi: number, int = false) =>
    v === undefined ? undefined : checkRange(name, v, lo, hi, int);
  const given = {
    slices: opt("slices", opts.slices, 16, 2000, true),
    matrix: opt("matrix", opts.matrix, 48, 1024, true),
    pixelSpacing: opt("pixelSpacing", opts.pixelSpacing, 0.3, 10),
    sliceSpacing: opt("sliceSpacing", opts.sliceSpacing, 0.3, 5),
  };
  if (preset === "mini") {
    const nz = given.slices ?? 48;
    const n = given.matrix ?? 96;
    const dx = given.pixelSpacing ?? 0.7;
    const dz = given.sliceSpacing ?? 1.25;
    return { preset, shape: [nz, n, n], spacing: [dz, dx, dx], fovMm: n * dx };
  }
  const r = drawRealistic(seed, given);
  return {
    preset,
    shape: [r.slices, r.matrix, r.matrix],
    spacing: [r.sliceSpacing, r.pixelSpacing, r.pixelSpacing],
    fovMm: r.matrix * r.pixelSpacing,
    frame: r.frame,
  };
}
