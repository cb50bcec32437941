/**
 * The one volume type every stage shares.
 *
 * Conventions (see ARCHITECTURE.md):
 * - `data` is C-order `[z, y, x]` (x fastest): voxel (z, y, x) is `data[(z * ny + y) * nx + x]`.
 * - `spacing` is `[dz, dy, dx]` in millimetres.
 * - `origin` is the patient-space position (DICOM LPS, `[X, Y, Z]` mm) of voxel (0, 0, 0).
 * - `direction` holds the unit vectors, in patient space (LPS), of the array axes in array
 *   order: `[zAxis, yAxis, xAxis]`, each `[X, Y, Z]`. Axial DICOM gives
 *   `[[0,0,1],[0,1,0],[1,0,0]]`.
 * - The element type carries the role: `Int16Array` is HU, `Uint8Array` a 0/1 mask,
 *   `Float32Array` a network input.
 */
export type VoxelArray = Int16Array | Uint8Array | Uint16Array | Float32Array;

export type Vec3 = [number, number, number];

export interface Volume<T extends VoxelArray = VoxelArray> {
  data: T;
  /** `[nz, ny, nx]` */
  shape: Vec3;
  /** `[dz, dy, dx]` mm */
  spacing: Vec3;
  /** LPS `[X, Y, Z]` mm of voxel (0,0,0) */
  origin: Vec3;
  /** unit vectors of the z, y, x array axes in LPS */
  direction: [Vec3, Vec3, Vec3];
}

export type HuVolume = Volume<Int16Array>;
export type MaskVolume = Volume<Uint8Array>;

/** The direction of an axial series with rows along +Y and columns along +X. */
export const AXIAL_DIRECTION: [Vec3, Vec3, Vec3] = [
  [0, 0, 1],
  [0, 1, 0],
  [1, 0, 0],
];

/** Number of voxels of a shape. */
export function voxelCount(shape: readonly number[]): number {
  return shape[0] * shape[1] * shape[2];
}

/** Builds a volume, checking that the array length matches the shape. */
export function makeVolume<T extends VoxelArray>(
  data: T,
  shape: Vec3,
  spacing: Vec3 = [1, 1, 1],
  origin: Vec3 = [0, 0, 0],
  direction: [Vec3, Vec3, Vec3] = AXIAL_DIRECTION,
): Volume<T> {
  if (data.length !== voxelCount(shape)) {
    throw new RangeError(
      `volume data has ${data.length} voxels but shape ${shape.join("x")} needs ${voxelCount(shape)}`,
    );
  }
  return {
    data,
    shape: [...shape] as Vec3,
    spacing: [...spacing] as Vec3,
    origin: [...origin] as Vec3,
    direction,
  };
}
