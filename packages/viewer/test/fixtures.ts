import * as fs from "node:fs/promises";
import * as path from "node:path";
import { openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { makePhantom } from "@lungflow/phantom";
import { makeVolume, type Vec3 } from "@lungflow/volume";

export const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};

/** Chunk edge of the fixture arrays: several chunks per axis, so a slice reads many. */
export const CHUNK = 16;
export const ENCODER = "enc-test";

/**
 * A store of three mini phantoms (48 x 96 x 96, 0.7 mm in-plane) written with the store
 * API: `good` with a feature array s0 (magnitude growing along x), `other` labelled, and
 * `bad` whose hu chunk holding the volume centre is overwritten with garbage.
 */
export async function makeViewerStore(dir: string): Promise<{ store: string; badChunk: string }> {
  const store = path.join(dir, "s.zarr");
  const s = await openStore(store, { create: true, params: PARAMS });
  const lock = await s.lock({ purpose: "viewer test" });
  try {
    for (const [i, id] of ["good", "other", "bad"].entries()) {
      const p = makePhantom({ seed: i + 1, preset: "mini" });
      const shape = p.shape as Vec3;
      await s.writePatient(
        {
          id,
          hu: makeVolume(p.hu, shape, p.spacing as Vec3, p.origin as Vec3),
          mask: makeVolume(p.lungMask, shape, p.spacing as Vec3, p.origin as Vec3),
          params: PARAMS,
          source: {
            bbox: [
              [0, shape[0]],
              [0, shape[1]],
              [0, shape[2]],
            ],
            sourceSpacing: p.spacing as Vec3,
            sourceShape: shape,
            otsuThreshold: -400,
            seriesInstanceUid: `1.2.3.${i}`,
            fileCount: shape[0],
            sourceHash: `hash-${id}`,
            lungflowVersion: "test",
            extra: { lungVolumeMl: 1000 + i * 100, warnings: i === 1 ? ["SPACING_VARIES"] : [] },
          },
        },
        { chunk: CHUNK },
      );
    }
    const fshape: [number, number, number, number] = [6, 12, 12, 4];
    const f = new Float32Array(fshape.reduce((a, b) => a * b));
    for (let i = 0; i < f.length; i++) f[i] = Math.floor(i / 4) % 12; // x index of the voxel
    await s.writeFeatures("good", ENCODER, 0, { data: f, shape: fshape }, { stride: 8 });
  } finally {
    await lock.release();
  }
  await s.importLabels("id,cancer\nother,1\ngood,0\n");
  const a = await s.getPatient("bad");
  const c = (a?.shape ?? [0, 0, 0]).map((n) => Math.floor(n / 2 / CHUNK));
  const badChunk = path.join(store, "patients", "bad", "hu", "c", ...c.map(String));
  await fs.writeFile(badChunk, Buffer.from("not a zstd frame at all"));
  return { store, badChunk };
}
