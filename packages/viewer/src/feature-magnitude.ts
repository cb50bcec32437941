import type { PatchStore } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";
import { ViewerError } from "./errors.js";

/** The L2 norm over channels of a patient's stored encoder features, on the feature grid. */
export interface FeatureMagnitude {
  encoderId: string;
  /** Feature grid `[fz, fy, fx]` (coarser than the volume by the encoder's stride). */
  shape: Vec3;
  data: Float32Array;
  /** Largest magnitude, so every slice is coloured on one scale. */
  max: number;
}

/**
 * Reads symmetry 0 (the identity, the volume as stored) of `encoderId`'s features and
 * reduces `[z, y, x, c]` to `|f|` per feature voxel. Other symmetries are the same volume
 * turned, so they add nothing to a map of where the encoder responds.
 */
export async function featureMagnitude(
  store: PatchStore,
  id: string,
  encoderId: string,
): Promise<FeatureMagnitude> {
  const f = await store.readFeatures(id, encoderId, 0);
  if (!f) {
    throw new ViewerError(
      "FEATURES_UNAVAILABLE",
      `patient ${id} has no stored features s0 (identity symmetry) of encoder ${encoderId}`,
      { patientId: id, encoderId },
    );
  }
  const [fz, fy, fx, c] = f.shape;
  const n = fz * fy * fx;
  const data = new Float32Array(n);
  let max = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * c, e = k + c; k < e; k++) s += f.data[k] * f.data[k];
    const m = Math.sqrt(s);
    data[i] = m;
    if (m > max) max = m;
  }
  return { encoderId, shape: [fz, fy, fx], data, max };
}

/**
 * Slice `index` (a voxel index of the volume of shape `volShape`) of a feature magnitude, on
 * the feature grid: feature voxel `floor(index * f / n)` along the plane's axis. Rows and
 * columns as in `sliceBox` (axial `[y][x]`, coronal `[z][x]`, sagittal `[z][y]`).
 */
export function magnitudeSlice(
  m: FeatureMagnitude,
  axis: 0 | 1 | 2,
  index: number,
  volShape: Vec3,
): { data: Float32Array; rows: number; cols: number } {
  const [fz, fy, fx] = m.shape;
  const k = Math.min(m.shape[axis] - 1, Math.floor((index * m.shape[axis]) / volShape[axis]));
  if (axis === 0) return { data: m.data.slice(k * fy * fx, (k + 1) * fy * fx), rows: fy, cols: fx };
  const rows = fz;
  const cols = axis === 1 ? fx : fy;
  const data = new Float32Array(rows * cols);
  for (let z = 0; z < fz; z++)
    for (let j = 0; j < cols; j++)
      data[z * cols + j] =
        axis === 1 ? m.data[(z * fy + k) * fx + j] : m.data[(z * fy + j) * fx + k];
  return { data, rows, cols };
}
