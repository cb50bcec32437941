/**
 * The realistic preset: an adult chest as a clinical chest CT scans it. Per patient
 * (seeded) a field of view, a slice spacing, a lung height, the body's size and its
 * position on the table are drawn; explicit options override the draws one by one.
 */
import type { BodyFrame } from "./anatomy.js";
import { hashSeed, Rng } from "./rng.js";

/** Ranges the realistic preset draws from (mm unless named otherwise). */
export const REALISTIC_PRESET = {
  /** Rows = columns when `matrix` is not given. */
  matrix: 512,
  /** Field of view (reconstruction diameter): pixelSpacing = fov / matrix. */
  fovMm: [340, 400],
  /** Slice spacings drawn from (one per patient). */
  sliceSpacingsMm: [1, 1.25, 1.5, 2, 2.5],
  /** Cranio-caudal lung height, bases to apices. */
  lungHeightMm: [200, 280],
  /** Scanned length below the lung bases (upper abdomen) and above the apices (neck). */
  belowLungsMm: [30, 60],
  aboveLungsMm: [15, 35],
  /** Lateral body width (before the layout's own ±5%), capped to fit the field of view. */
  bodyWidthMm: [290, 360],
  /** Largest lateral and anterior-posterior offset of the body from the scan centre. */
  maxShiftMm: [25, 15],
  /** Smallest field of view (matrix x pixelSpacing) that holds the preset's adult chest. */
  minFovMm: 300,
} as const;

/** Geometry the preset fixes for one patient. */
export interface RealisticDraw {
  matrix: number;
  pixelSpacing: number;
  sliceSpacing: number;
  slices: number;
  frame: BodyFrame;
}

/** Millimetres kept between the body and the circular field of view's edge. */
const FOV_GAP_MM = 3;

/**
 * Draws one patient's scan geometry and body frame. Every value is drawn whether or not an
 * explicit option overrides it, so overriding one option leaves the others' draws alone.
 */
export function drawRealistic(
  seed: number,
  o: { matrix?: number; pixelSpacing?: number; sliceSpacing?: number; slices?: number },
): RealisticDraw {
  const P = REALISTIC_PRESET;
  const rng = new Rng(hashSeed(seed, 17));
  const fovDrawn = rng.uniform(P.fovMm[0], P.fovMm[1]);
  const dzDrawn = P.sliceSpacingsMm[rng.int(0, P.sliceSpacingsMm.length - 1)];
  let lungH = rng.uniform(P.lungHeightMm[0], P.lungHeightMm[1]);
  let below = rng.uniform(P.belowLungsMm[0], P.belowLungsMm[1]);
  let above = rng.uniform(P.aboveLungsMm[0], P.aboveLungsMm[1]);
  const width = rng.uniform(P.bodyWidthMm[0], P.bodyWidthMm[1]);
  let shiftX = (2 * rng.float() - 1) * P.maxShiftMm[0];
  let shiftY = (2 * rng.float() - 1) * P.maxShiftMm[1];

  const matrix = o.matrix ?? P.matrix;
  // Four decimals (the DICOM value is the same number), kept inside the drawn range.
  const pixelSpacing =
    o.pixelSpacing ??
    Math.min(
      Math.floor((P.fovMm[1] / matrix) * 1e4) / 1e4,
      Math.max(Math.ceil((P.fovMm[0] / matrix) * 1e4) / 1e4, round4(fovDrawn / matrix)),
    );
  const fov = matrix * pixelSpacing;
  if (fov < P.minFovMm) {
    throw new RangeError(
      `phantom: the realistic preset's adult chest needs a field of view (matrix x pixelSpacing) of at least ${P.minFovMm} mm, got ${fov.toFixed(1)} mm (${matrix} x ${pixelSpacing}); use a larger pixelSpacing or matrix, or preset "mini"`,
    );
  }
  const sliceSpacing = o.sliceSpacing ?? dzDrawn;
  const scanned = below + lungH + above;
  const slices = o.slices ?? Math.ceil(scanned / sliceSpacing) + 1;
  const zTop = (slices - 1) * sliceSpacing;
  if (zTop >= scanned) {
    below += (zTop - scanned) / 2;
    above += (zTop - scanned) / 2;
  } else {
    // Fewer slices than the chest needs were asked for: a shorter chest, margins kept.
    const f = zTop / scanned;
    below *= f;
    lungH *= f;
    above *= f;
  }

  // In-plane: the layout makes the body 0.88 S wide and 0.6 S deep (times k <= 1.03),
  // centred 0.04 S anterior of its centre; keep it inside the circular field of view.
  const R = fov / 2 - FOV_GAP_MM;
  const fits = (S: number, sx: number, sy: number) => {
    const rx = 0.44 * 1.03 * S;
    const ry = 0.3 * 1.03 * S;
    for (let i = 0; i < 64; i++) {
      const a = (i * Math.PI) / 32;
      if (Math.hypot(sx + rx * Math.cos(a), sy - 0.04 * S + ry * Math.sin(a)) > R) return false;
    }
    return true;
  };
  let scale = width / 0.88;
  while (!fits(scale, 0, 0)) scale *= 0.99;
  for (let i = 0; i < 60 && !fits(scale, shiftX, shiftY); i++) {
    shiftX *= 0.8;
    shiftY *= 0.8;
  }
  if (!fits(scale, shiftX, shiftY)) shiftX = shiftY = 0;
  return {
    matrix,
    pixelSpacing,
    sliceSpacing,
    slices,
    frame: { scale, shiftX, shiftY, lungZ0: below, lungZ1: below + lungH },
  };
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
