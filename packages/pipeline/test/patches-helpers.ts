import { openStore, type PatientSource, type PreprocessingParams } from "@lungflow/patch-store";
import { createRng, makeVolume, type Vec3 } from "@lungflow/volume";

/** A small synthetic chest: two ellipsoid lungs (-850 HU) with bright blobs, soft tissue around, varied texture. */
export function chest(shape: Vec3, seed = 1): { hu: Int16Array; mask: Uint8Array; shape: Vec3 } {
  const [nz, ny, nx] = shape;
  const n = nz * ny * nx;
  const mask = new Uint8Array(n);
  const hu = new Int16Array(n);
  const rng = createRng(seed);
  const blobs = Array.from({ length: 10 }, () => [rng.int(nz), rng.int(ny), rng.int(nx)]);
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++) {
        const i = (z * ny + y) * nx + x;
        hu[i] = 20 + ((i * 7919) % 61) - 30;
        const dz = (z - nz / 2) / (nz * 0.45);
        const dy = (y - ny / 2) / (ny * 0.4);
        for (const cx of [0.3, 0.7]) {
          const dx = (x - nx * cx) / (nx * 0.18);
          if (dz * dz + dy * dy + dx * dx < 1) {
            mask[i] = 1;
            hu[i] = -850 + ((i * 104729) % 101) - 50;
          }
        }
        for (const [bz, by, bx] of blobs) {
          if ((z - bz) ** 2 + (y - by) ** 2 + (x - bx) ** 2 < 6 && mask[i]) hu[i] = 60;
        }
      }
  // A few voxels beyond the normalisation window, to exercise clipping.
  hu[0] = 1500;
  hu[1] = -1024;
  return { hu, mask, shape };
}

/** Slow reference extraction: voxel by voxel, -1000 HU outside the volume. */
export function refExtract(hu: Int16Array, shape: Vec3, origin: Vec3, size: Vec3): Int16Array {
  const out = new Int16Array(size[0] * size[1] * size[2]);
  let k = 0;
  for (let z = 0; z < size[0]; z++)
    for (let y = 0; y < size[1]; y++)
      for (let x = 0; x < size[2]; x++) {
        const [Z, Y, X] = [origin[0] + z, origin[1] + y, origin[2] + x];
        const inside = Z >= 0 && Y >= 0 && X >= 0 && Z < shape[0] && Y < shape[1] && X < shape[2];
        out[k++] = inside ? hu[(Z * shape[1] + Y) * shape[2] + X] : -1000;
      }
  return out;
}

/** Largest absolute difference. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The preprocessing parameters the test stores are made with. */
export const STORE_PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};

/**
 * A new store at `dir` holding `patients` (HU and mask at 1 mm, the whole volume as the crop),
 * written with `chunk`; labels, when given, imported.
 */
export async function writeChestStore(
  dir: string,
  patients: { id: string; hu: Int16Array; mask: Uint8Array; shape: Vec3; label?: 0 | 1 }[],
  opts: { chunk?: number } = {},
): Promise<void> {
  const store = await openStore(dir, { create: true, params: STORE_PARAMS });
  for (const [i, p] of patients.entries()) {
    const source: PatientSource = {
      bbox: [
        [0, p.shape[0]],
        [0, p.shape[1]],
        [0, p.shape[2]],
      ],
      sourceSpacing: [1, 1, 1],
      sourceShape: p.shape,
      otsuThreshold: -400,
      seriesInstanceUid: `1.2.${i}.${p.id.charCodeAt(0)}`,
      fileCount: p.shape[0],
      sourceHash: p.id,
      lungflowVersion: "0.1.0",
    };
    await store.writePatient(
      {
        id: p.id,
        hu: makeVolume(p.hu, p.shape),
        mask: makeVolume(p.mask, p.shape),
        source,
        params: STORE_PARAMS,
      },
      opts,
    );
  }
  const labelled = patients.filter((p) => p.label !== undefined);
  if (labelled.length)
    await store.importLabels(
      `id,cancer\n${labelled.map((p) => `${p.id},${p.label}`).join("\n")}\n`,
    );
}
