import fs from "node:fs/promises";
import path from "node:path";
import { tf } from "@lungflow/tf-runtime";
import { PNG } from "pngjs";
import type { Gmcae } from "./model.js";

/**
 * Reconstructs patches as kdsb17 does: per patch the component k* = argmax_k(prior_k /
 * sigma_k) (the tallest peak of the mixture), and per voxel its mean mu_{k*}. `xs` is
 * [B, D, D, D, 1] in normalised units; returns [B, D, D, D] in the same units, plus k*.
 */
export function reconstruct(
  gmcae: Gmcae,
  xs: tf.Tensor,
): { recon: tf.Tensor4D; component: Int32Array } {
  const { m, patchSize: d } = gmcae.config;
  return tf.tidy(() => {
    const y = gmcae.model.predict(xs) as tf.Tensor2D;
    const b = y.shape[0];
    const c = d * d * d;
    const logPrior = tf.slice(y, [0, 0], [b, m]);
    const variance = tf.slice(y, [0, m], [b, m]);
    // log(prior / sigma) = log prior - log(variance) / 2
    const score = tf.sub(logPrior, tf.mul(0.5, tf.log(variance)));
    const kStar = tf.argMax(score, 1);
    const mu = tf.reshape(tf.slice(y, [0, 2 * m], [b, c * m]), [b, c, m]);
    const pick = tf.reshape(tf.oneHot(kStar, m), [b, 1, m]);
    const recon = tf.reshape(tf.sum(tf.mul(mu, pick), 2), [b, d, d, d]) as tf.Tensor4D;
    const component = Int32Array.from(kStar.dataSync());
    return { recon, component };
  });
}

/** Options of {@link writeMosaic}. */
export interface MosaicOptions {
  /** Axial slices shown per patch, evenly spaced (default: min(D, 8)). */
  slices?: number;
  /** Pixel upscaling (nearest neighbour, default 4). */
  scale?: number;
  /** Normalised value shown black and white (default -1, 1: HU -1000..400). */
  window?: [number, number];
}

/**
 * Renders patches and their reconstructions as one greyscale PNG: one row per patch, the
 * chosen axial slices of the original on the left, the same slices of the reconstruction
 * on the right, separated by a 1-pixel (scaled) gap. Arrays are [n][D*D*D] (z, y, x).
 */
export function mosaicPng(
  originals: Float32Array[],
  recons: Float32Array[],
  d: number,
  opts: MosaicOptions = {},
): Buffer {
  const nSlices = Math.max(1, Math.min(opts.slices ?? Math.min(d, 8), d));
  const scale = opts.scale ?? 4;
  const [lo, hi] = opts.window ?? [-1, 1];
  const gap = 1;
  const zs = Array.from({ length: nSlices }, (_, i) => Math.floor(((i + 0.5) * d) / nSlices));
  const tileW = d + gap;
  const cols = 2 * nSlices * tileW + gap * 2;
  const rows = originals.length * tileW + gap;
  const width = cols * scale;
  const height = rows * scale;
  const png = new PNG({ width, height });
  png.data.fill(0);
  for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
  const put = (px: number, py: number, v: number) => {
    const g = Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
    for (let sy = 0; sy < scale; sy++) {
      for (let sx = 0; sx < scale; sx++) {
        const o = ((py * scale + sy) * width + px * scale + sx) * 4;
        png.data[o] = g;
        png.data[o + 1] = g;
        png.data[o + 2] = g;
      }
    }
  };
  originals.forEach((orig, p) => {
    const top = gap + p * tileW;
    [orig, recons[p]].forEach((vol, side) => {
      zs.forEach((z, s) => {
        const left = gap + side * (nSlices * tileW + gap) + s * tileW;
        for (let y = 0; y < d; y++) {
          for (let x = 0; x < d; x++) put(left + x, top + y, vol[(z * d + y) * d + x]);
        }
      });
    });
  });
  return PNG.sync.write(png);
}

/** Reconstructs `xs` [n, D, D, D, 1] and writes the mosaic PNG to `file`. */
export async function writeMosaic(
  gmcae: Gmcae,
  xs: tf.Tensor,
  file: string,
  opts: MosaicOptions = {},
): Promise<void> {
  const d = gmcae.config.patchSize;
  const { recon } = reconstruct(gmcae, xs);
  const n = xs.shape[0];
  const c = d * d * d;
  const xv = xs.dataSync() as Float32Array;
  const rv = recon.dataSync() as Float32Array;
  recon.dispose();
  const originals = Array.from({ length: n }, (_, i) => xv.slice(i * c, (i + 1) * c));
  const recons = Array.from({ length: n }, (_, i) => rv.slice(i * c, (i + 1) * c));
  await fs.mkdir(path.dirname(path.resolve(file)), { recursive: true });
  await fs.writeFile(file, mosaicPng(originals, recons, d, opts));
}
