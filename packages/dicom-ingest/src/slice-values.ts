import { norm } from "./geometry.js";
import type { SliceHeader } from "./header.js";
import { type Ctx, err } from "./slice-format.js";

/**
 * Plausibility ranges of the values the HU rule and the geometry need, checked when a series
 * is read (before any pixel is allocated). A value outside its range is a corrupt or foreign
 * header, never a scan to be read: `INVALID_VALUE` names the file, the tag and the value.
 * CT images are 512 x 512 (sometimes 256 to 2048) with 0.2 to 1.5 mm pixels and 0.5 to 10 mm
 * between slices; the ranges leave a wide margin around that.
 */
export const PLAUSIBLE_RANGES = {
  /** Rows and Columns (pixels). */
  rows: [1, 4096],
  columns: [1, 4096],
  /** Each PixelSpacing component, mm. */
  pixelSpacingMm: [0.01, 10],
  /** Distance between neighbouring slices along the normal (from the positions), mm. */
  sliceDistanceMm: [0.05, 30],
  /**
   * ImageOrientationPatient: the row and column direction cosines must each have length
   * 1 +- this, and their dot product must be within +- this of 0 (else DEGENERATE_ORIENTATION).
   */
  orientationTolerance: 0.01,
} as const;

/**
 * Numeric tags that the HU rule or the geometry needs: present but not a number is an error
 * (`INVALID_VALUE`), never a default. Only an absent RescaleSlope / RescaleIntercept takes
 * its documented default (1 / 0).
 */
const NEEDED = new Set([
  "RescaleSlope",
  "RescaleIntercept",
  "PixelSpacing",
  "ImagePositionPatient",
  "ImageOrientationPatient",
  "GantryDetectorTilt",
  "NumberOfFrames",
]);

const inRange = (v: number, [lo, hi]: readonly [number, number]) => v >= lo && v <= hi;

/** Malformed needed values (checked before the MISSING_TAG checks, which they would trip). */
export function checkValuesParse(h: SliceHeader, ctx: Ctx): void {
  const bad = h.invalidValues.find((v) => NEEDED.has(v.tag));
  if (bad) {
    throw err(
      "INVALID_VALUE",
      `${h.file}: ${bad.tag} "${bad.value}" is not a valid number`,
      ctx,
      `${bad.tag} "${bad.value}" is not a number`,
      h.file,
      { tag: bad.tag, value: bad.value },
    );
  }
}

/** Range checks of one slice's values (after the required tags are known to be present). */
export function checkValueRanges(h: SliceHeader, ctx: Ctx): void {
  const f = h.file;
  const out = (tag: string, value: unknown, why: string) =>
    err("INVALID_VALUE", `${f}: ${tag} ${String(value)} ${why}`, ctx, `${tag} ${why}`, f, {
      tag,
      value,
    });
  const R = PLAUSIBLE_RANGES;
  if (!inRange(h.rows!, R.rows)) throw out("Rows", h.rows, `is outside ${R.rows.join("..")}`);
  if (!inRange(h.columns!, R.columns))
    throw out("Columns", h.columns, `is outside ${R.columns.join("..")}`);
  const ps = h.pixelSpacing!;
  if (!ps.every((v) => inRange(v, R.pixelSpacingMm)))
    throw out("PixelSpacing", ps.join("\\"), `is outside ${R.pixelSpacingMm.join("..")} mm`);
  if (h.rescaleSlope !== undefined && !(h.rescaleSlope > 0))
    throw out("RescaleSlope", h.rescaleSlope, "must be a positive number");
  checkOrientation(h, ctx);
}

/** A zero, non-unit or non-orthogonal orientation has no slice normal: its own error. */
function checkOrientation(h: SliceHeader, ctx: Ctx): void {
  const iop = h.imageOrientation!;
  const row = iop.slice(0, 3);
  const col = iop.slice(3, 6);
  const tol = PLAUSIBLE_RANGES.orientationTolerance;
  const d = row[0] * col[0] + row[1] * col[1] + row[2] * col[2];
  const why =
    Math.abs(norm(row) - 1) > tol
      ? `row direction has length ${norm(row).toFixed(4)}, 1 expected`
      : Math.abs(norm(col) - 1) > tol
        ? `column direction has length ${norm(col).toFixed(4)}, 1 expected`
        : Math.abs(d) > tol
          ? `row and column directions are not perpendicular (dot product ${d.toFixed(4)})`
          : undefined;
  if (why) {
    throw err(
      "DEGENERATE_ORIENTATION",
      `${h.file}: ImageOrientationPatient ${iop.join("\\")} is degenerate: ${why}`,
      ctx,
      why,
      h.file,
      { value: iop.join("\\") },
    );
  }
}

/** The mean slice distance of a planned series must be plausible. */
export function checkSliceDistance(dz: number, file: string, ctx: Ctx): void {
  const r = PLAUSIBLE_RANGES.sliceDistanceMm;
  if (!inRange(dz, r)) {
    throw err(
      "INVALID_VALUE",
      `slice distance ${+dz.toFixed(4)} mm (from ImagePositionPatient) is outside ${r.join("..")} mm`,
      ctx,
      `slice distance outside ${r.join("..")} mm`,
      file,
      { tag: "slice distance", value: dz },
    );
  }
}
