import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { makeVolume, type Vec3, type Volume } from "@lungflow/volume";
import type { PatientSource, PreprocessingParams } from "../src/index.ts";

export const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: { opening: [5, 5], openingIterations: 2 },
  tailFraction: 0.005,
};

export function tmpDir(prefix = "ps-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A deterministic HU volume with varied values and a 0/1 mask. */
export function volumes(
  shape: Vec3,
  seed = 1,
): { hu: Volume<Int16Array>; mask: Volume<Uint8Array> } {
  const n = shape[0] * shape[1] * shape[2];
  const hu = new Int16Array(n);
  const mask = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    hu[i] = ((s >>> 16) % 2400) - 1200;
    mask[i] = hu[i] < -400 ? 1 : 0;
  }
  return {
    hu: makeVolume(hu, shape, [1, 1, 1], [-100, -120, -300]),
    mask: makeVolume(mask, shape, [1, 1, 1], [-100, -120, -300]),
  };
}

export function source(shape: Vec3, hash = "h1"): PatientSource {
  return {
    bbox: [
      [3, 3 + shape[0]],
      [5, 5 + shape[1]],
      [7, 7 + shape[2]],
    ],
    sourceSpacing: [2.5, 0.7, 0.7],
    sourceShape: [40, 96, 96],
    otsuThreshold: -420,
    seriesInstanceUid: "1.2.3.4",
    fileCount: 40,
    sourceHash: hash,
    lungflowVersion: "0.1.0",
  };
}

/** Slow reference: voxel-by-voxel extraction with fill outside. */
export function refPatch(
  vol: Volume<Int16Array> | Volume<Uint8Array>,
  o: Vec3,
  s: Vec3,
  fill: number,
): number[] {
  const out: number[] = [];
  const [nz, ny, nx] = vol.shape;
  for (let z = o[0]; z < o[0] + s[0]; z++)
    for (let y = o[1]; y < o[1] + s[1]; y++)
      for (let x = o[2]; x < o[2] + s[2]; x++) {
        const inside = z >= 0 && y >= 0 && x >= 0 && z < nz && y < ny && x < nx;
        out.push(inside ? vol.data[(z * ny + y) * nx + x] : fill);
      }
  return out;
}

/** Deterministic float32 features `[z,y,x,c]` with varied signs and magnitudes. */
export function featureData(
  shape: [number, number, number, number],
  seed = 1,
): { data: Float32Array; shape: [number, number, number, number] } {
  const n = shape[0] * shape[1] * shape[2] * shape[3];
  const data = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = ((s / 2 ** 32 - 0.5) * 20) ** 3;
  }
  return { data, shape };
}
