import type { Vec3 } from "@lungflow/volume";
import { dot, sliceNormal, slicePlane } from "./geometry.js";
import type { SliceHeader } from "./header.js";
import { type Ctx, checkSliceFormat, type DicomWarning, err } from "./slice-format.js";
import { checkSliceDistance } from "./slice-values.js";

export type { DicomWarning } from "./slice-format.js";

/** Tolerances of the validation, in mm and degrees (defaults in {@link DEFAULT_TOLERANCES}). */
export interface Tolerances {
  /** Largest allowed deviation of a slice step from the mean step, mm (ARCHITECTURE.md: 0.01). */
  spacingMm: number;
  /** Two slices closer than this along the normal are at the same position, mm. */
  duplicateMm: number;
  /** Largest allowed difference of PixelSpacing between slices, mm. */
  pixelSpacingMm: number;
  /** Largest allowed difference of an ImageOrientationPatient component between slices. */
  orientation: number;
  /** Largest angle between the slice normal and the stacking direction (shear), degrees. */
  shearDeg: number;
  /** Largest |GantryDetectorTilt|, degrees. */
  gantryTiltDeg: number;
  /** Largest angle between the slice normal and patient Z for an axial series, degrees. */
  axialDeg: number;
}

export const DEFAULT_TOLERANCES: Tolerances = {
  spacingMm: 0.01,
  duplicateMm: 0.01,
  pixelSpacingMm: 0.001,
  orientation: 1e-4,
  shearDeg: 0.1,
  gantryTiltDeg: 0.01,
  axialDeg: 45,
};

/** One slice of the planned volume; `duplicates` were found at the same position. */
export interface PlannedSlice {
  header: SliceHeader;
  /** Position along the slice normal, mm. */
  position: number;
  /** Other files at the same position: dropped if their pixels are identical, else an error. */
  duplicates: SliceHeader[];
}

/** The checked, ordered layout of a series: what `readSeries` fills with HU. */
export interface SeriesPlan {
  slices: PlannedSlice[];
  shape: Vec3;
  spacing: Vec3;
  origin: Vec3;
  direction: [Vec3, Vec3, Vec3];
  warnings: DicomWarning[];
  /** Acquisition numbers kept (overlapping acquisitions keep the biggest). */
  acquisitionNumbers: number[];
}

const close = (a: readonly number[], b: readonly number[], tol: number) =>
  a.every((v, i) => Math.abs(v - b[i]) <= tol);

/**
 * Validates a series' headers and plans its volume: per-file format, consistent geometry,
 * axial orientation, no gantry tilt, overlapping acquisitions (keep the one with the most
 * slices), duplicate positions, uniform spacing without gaps. Slices are ordered by their
 * position along the slice normal (never by file name or InstanceNumber).
 * Throws DicomError with the code of the first violated rule.
 */
export function planSeries(
  headers: SliceHeader[],
  ctx: Ctx = {},
  tol: Tolerances = DEFAULT_TOLERANCES,
): SeriesPlan {
  if (headers.length === 0) throw err("NO_SERIES", "no image files in the series", ctx, "no files");
  const warnings: DicomWarning[] = [];
  for (const h of headers) warnings.push(...checkSliceFormat(h, ctx));

  const ref = headers[0];
  const iop = ref.imageOrientation!;
  for (const h of headers) {
    if (h.rows !== ref.rows || h.columns !== ref.columns) {
      throw err(
        "INCONSISTENT_GEOMETRY",
        `${h.file}: ${h.rows}x${h.columns} image in a ${ref.rows}x${ref.columns} series`,
        ctx,
        "rows/columns differ",
        h.file,
      );
    }
    if (!close(h.pixelSpacing!, ref.pixelSpacing!, tol.pixelSpacingMm)) {
      throw err(
        "INCONSISTENT_GEOMETRY",
        `${h.file}: PixelSpacing ${h.pixelSpacing} differs from ${ref.pixelSpacing}`,
        ctx,
        "pixel spacing differs",
        h.file,
      );
    }
    if (!close(h.imageOrientation!, iop, tol.orientation)) {
      throw err(
        "MIXED_ORIENTATION",
        `${h.file}: ImageOrientationPatient ${h.imageOrientation} differs from ${iop}`,
        ctx,
        "orientation differs",
        h.file,
      );
    }
  }
  const { plane, angleDeg } = slicePlane(iop);
  if (plane !== "axial" || angleDeg > tol.axialDeg) {
    throw err(
      "NOT_AXIAL",
      `series is ${plane} (ImageOrientationPatient ${iop.join("\\")}), axial expected`,
      ctx,
      `${plane} orientation`,
      ref.file,
      { plane },
    );
  }
  if (angleDeg > 0.01)
    warnings.push({
      code: "OBLIQUE",
      message: `axial slices tilted by ${angleDeg.toFixed(2)} deg from patient Z`,
    });
  const tilted = headers.find((h) => Math.abs(h.gantryDetectorTilt ?? 0) > tol.gantryTiltDeg);
  if (tilted) {
    throw err(
      "GANTRY_TILT",
      `${tilted.file}: GantryDetectorTilt ${tilted.gantryDetectorTilt} deg`,
      ctx,
      `gantry tilt ${tilted.gantryDetectorTilt} deg`,
      tilted.file,
    );
  }

  const n = sliceNormal(iop);
  let items = headers.map((h) => ({ h, s: dot(n, h.imagePosition!) }));

  // Overlapping acquisitions: keep the one with the most slices (as kdsb17 does).
  const groups = new Map<number, typeof items>();
  for (const it of items) {
    const k = it.h.acquisitionNumber ?? Number.NaN;
    const key = Number.isNaN(k) ? -1 : k;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(it);
  }
  let acquisitionNumbers = [...groups.keys()].filter((k) => k >= 0).sort((a, b) => a - b);
  // Only when every group is a real acquisition (>= 2 slices): some scanners number each
  // slice as its own acquisition.
  const groupList = [...groups.values()];
  if (
    groups.size > 1 &&
    groupList.every((g) => g.length >= 2) &&
    acquisitionsOverlap(groupList, tol.duplicateMm)
  ) {
    const ranked = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || a[0] - b[0]);
    const [keep, kept] = ranked[0];
    const dropped = ranked.slice(1).flatMap(([, g]) => g.map((it) => it.h.file));
    warnings.push({
      code: "OVERLAPPING_ACQUISITIONS",
      message: `${groups.size} overlapping acquisitions; kept acquisition ${keep} (${kept.length} slices), dropped ${dropped.length} files`,
      files: dropped,
    });
    items = kept;
    acquisitionNumbers = keep >= 0 ? [keep] : [];
  }

  // Sort by position along the normal; ties by path so duplicate handling is deterministic.
  items.sort((a, b) => a.s - b.s || (a.h.file < b.h.file ? -1 : a.h.file > b.h.file ? 1 : 0));
  const slices: PlannedSlice[] = [];
  for (const it of items) {
    const last = slices[slices.length - 1];
    if (last && it.s - last.position <= tol.duplicateMm) last.duplicates.push(it.h);
    else slices.push({ header: it.h, position: it.s, duplicates: [] });
  }
  if (slices.length < 2) {
    throw err(
      "TOO_FEW_SLICES",
      `series has ${slices.length} distinct slice position(s); at least 2 are needed`,
      ctx,
      "fewer than 2 slices",
      ref.file,
    );
  }

  // Shear (gantry tilt without the tag): the stack must run along the slice normal.
  const p0 = slices[0].header.imagePosition!;
  const p1 = slices[slices.length - 1].header.imagePosition!;
  const d = [p1[0] - p0[0], p1[1] - p0[1], p1[2] - p0[2]];
  const along = dot(d, n);
  const across = Math.sqrt(Math.max(0, dot(d, d) - along * along));
  const shear = (Math.atan2(across, Math.abs(along)) * 180) / Math.PI;
  if (shear > tol.shearDeg) {
    throw err(
      "GANTRY_TILT",
      `slices are stacked at ${shear.toFixed(2)} deg from their normal (sheared, gantry tilt)`,
      ctx,
      `shear ${shear.toFixed(3)} deg`,
      undefined,
      { shearDeg: shear },
    );
  }

  // Uniform spacing, gaps.
  const steps = slices.slice(1).map((sl, i) => sl.position - slices[i].position);
  const med = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)];
  for (let i = 0; i < steps.length; i++) {
    const k = Math.round(steps[i] / med);
    if (k >= 2 && Math.abs(steps[i] - k * med) <= tol.spacingMm * k) {
      const at = slices[i].position;
      throw err(
        "MISSING_SLICES",
        `gap of ${k - 1} slice(s) after position ${at.toFixed(3)} mm (step ${steps[i].toFixed(3)} mm, usual ${med.toFixed(3)} mm)`,
        ctx,
        `gap of ${k - 1} slice(s)`,
        slices[i + 1].header.file,
        { missing: k - 1, afterPositionMm: at },
      );
    }
  }
  const dz = (slices[slices.length - 1].position - slices[0].position) / (slices.length - 1);
  checkSliceDistance(dz, slices[1].header.file, ctx);
  for (let i = 0; i < steps.length; i++) {
    if (Math.abs(steps[i] - dz) > tol.spacingMm) {
      throw err(
        "NONUNIFORM_SPACING",
        `slice step ${steps[i].toFixed(4)} mm after position ${slices[i].position.toFixed(3)} differs from the mean ${dz.toFixed(4)} mm by more than ${tol.spacingMm} mm`,
        ctx,
        "non-uniform slice spacing",
        slices[i + 1].header.file,
      );
    }
  }
  if (ref.photometricInterpretation === "MONOCHROME1") {
    warnings.push({
      code: "MONOCHROME1",
      message: "MONOCHROME1: HU come from the rescale only (display inversion does not change HU)",
    });
  }
  const ps = ref.pixelSpacing!;
  return {
    slices,
    shape: [slices.length, ref.rows!, ref.columns!],
    spacing: [dz, ps[0], ps[1]],
    origin: [...p0] as Vec3,
    direction: [n, [iop[3], iop[4], iop[5]], [iop[0], iop[1], iop[2]]],
    warnings,
    acquisitionNumbers,
  };
}

/** True if any two acquisition groups cover a common stretch along the normal. */
function acquisitionsOverlap(groups: { s: number }[][], eps: number): boolean {
  const ranges = groups.map((g) => {
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const it of g) {
      lo = Math.min(lo, it.s);
      hi = Math.max(hi, it.s);
    }
    return [lo, hi] as const;
  });
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      if (Math.max(ranges[i][0], ranges[j][0]) <= Math.min(ranges[i][1], ranges[j][1]) + eps)
        return true;
    }
  }
  return false;
}
