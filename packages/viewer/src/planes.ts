import type { Vec3 } from "@lungflow/volume";
import { ViewerError } from "./errors.js";

/** The three orthogonal planes, named by the axis they cut (`[z, y, x]` arrays). */
export type Plane = "axial" | "coronal" | "sagittal";

export const PLANES: readonly Plane[] = ["axial", "coronal", "sagittal"];

/** Which array axis a plane's slice index runs along: axial z, coronal y, sagittal x. */
export const PLANE_AXIS: Record<Plane, 0 | 1 | 2> = { axial: 0, coronal: 1, sagittal: 2 };

/** A one-voxel-thick box of the stored array, and the 2D shape of the slice it gives. */
export interface SliceBox {
  origin: Vec3;
  size: Vec3;
  /** Slice rows: y (axial) or z (coronal, sagittal). */
  rows: number;
  /** Slice columns: x (axial, coronal) or y (sagittal). */
  cols: number;
}

/**
 * The box `readPatch` reads for slice `index` of `plane`. In C order the box's data is
 * already the slice row by row: axial `[y][x]`, coronal `[z][x]`, sagittal `[z][y]`.
 */
export function sliceBox(plane: Plane, index: number, shape: Vec3): SliceBox {
  const axis = PLANE_AXIS[plane];
  if (!Number.isInteger(index) || index < 0 || index >= shape[axis]) {
    throw new ViewerError(
      "BAD_REQUEST",
      `${plane} slice ${index} is outside the volume (0..${shape[axis] - 1})`,
      { plane, index, shape },
    );
  }
  const origin: Vec3 = [0, 0, 0];
  const size: Vec3 = [...shape];
  origin[axis] = index;
  size[axis] = 1;
  const [nz, ny, nx] = shape;
  if (plane === "axial") return { origin, size, rows: ny, cols: nx };
  if (plane === "coronal") return { origin, size, rows: nz, cols: nx };
  return { origin, size, rows: nz, cols: ny };
}

/** Parses a plane name from a request (`BAD_REQUEST` otherwise). */
export function parsePlane(v: string | null): Plane {
  if (v === "axial" || v === "coronal" || v === "sagittal") return v;
  throw new ViewerError("BAD_REQUEST", `unknown plane ${JSON.stringify(v)}`, { plane: v });
}
