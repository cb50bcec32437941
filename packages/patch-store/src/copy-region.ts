import type { Vec3 } from "@lungflow/volume";

type Arr = Int16Array | Uint8Array;

/**
 * Copies the part of one chunk that overlaps a patch into the patch (C order, x fastest).
 * `chunkOrigin` is the chunk's first voxel in array coordinates, `chunkShape` its full
 * (padded) shape; `patchOrigin`/`patchSize` the patch box in the same coordinates;
 * `limit` the array shape (voxels beyond it, in padded edge chunks, are not copied).
 */
export function copyChunkToPatch(
  chunk: Arr,
  chunkOrigin: Vec3,
  chunkShape: Vec3,
  patch: Arr,
  patchOrigin: Vec3,
  patchSize: Vec3,
  limit: Vec3,
): void {
  const lo = [0, 0, 0];
  const hi = [0, 0, 0];
  for (let a = 0; a < 3; a++) {
    lo[a] = Math.max(chunkOrigin[a], patchOrigin[a], 0);
    hi[a] = Math.min(chunkOrigin[a] + chunkShape[a], patchOrigin[a] + patchSize[a], limit[a]);
    if (hi[a] <= lo[a]) return;
  }
  const [, ch, cw] = chunkShape;
  const [, ph, pw] = patchSize;
  const run = hi[2] - lo[2];
  for (let z = lo[0]; z < hi[0]; z++) {
    const cz = (z - chunkOrigin[0]) * ch;
    const pz = (z - patchOrigin[0]) * ph;
    for (let y = lo[1]; y < hi[1]; y++) {
      const src = (cz + (y - chunkOrigin[1])) * cw + (lo[2] - chunkOrigin[2]);
      const dst = (pz + (y - patchOrigin[1])) * pw + (lo[2] - patchOrigin[2]);
      patch.set(chunk.subarray(src, src + run), dst);
    }
  }
}
