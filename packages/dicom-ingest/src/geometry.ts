import type { Vec3 } from "@lungflow/volume";

export function cross(a: readonly number[], b: readonly number[]): Vec3 {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

export function dot(a: readonly number[], b: readonly number[]): number {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

export function norm(a: readonly number[]): number {
  return Math.sqrt(dot(a, a));
}

export function normalize(a: readonly number[]): Vec3 {
  const n = norm(a) || 1;
  return [a[0] / n, a[1] / n, a[2] / n];
}

/** The unit slice normal of an ImageOrientationPatient: row direction x column direction. */
export function sliceNormal(iop: readonly number[]): Vec3 {
  return normalize(cross(iop.slice(0, 3), iop.slice(3, 6)));
}

export type PlaneName = "axial" | "coronal" | "sagittal";

/**
 * The anatomical plane closest to a slice: the patient axis the normal is most parallel to
 * (Z: axial, Y: coronal, X: sagittal), with the angle in degrees between the normal and
 * that axis. Axial slices have an angle of 0 (or up to 45 for oblique ones).
 */
export function slicePlane(iop: readonly number[]): { plane: PlaneName; angleDeg: number } {
  const n = sliceNormal(iop);
  const ax = [Math.abs(n[0]), Math.abs(n[1]), Math.abs(n[2])];
  const i = ax[2] >= ax[1] && ax[2] >= ax[0] ? 2 : ax[1] >= ax[0] ? 1 : 0;
  const plane: PlaneName = i === 2 ? "axial" : i === 1 ? "coronal" : "sagittal";
  return { plane, angleDeg: (Math.acos(Math.min(1, ax[i])) * 180) / Math.PI };
}
