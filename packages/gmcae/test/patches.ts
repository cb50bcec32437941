import { makePhantom } from "@lungflow/phantom";
import { tf } from "@lungflow/tf-runtime";
import { type Batch, RunRng } from "../src/index.ts";

/** HU -1000 -> -1, 400 -> 1 (ARCHITECTURE.md). */
export function normaliseHu(hu: number): number {
  return ((hu + 1000) / 1400) * 2 - 1;
}

const cache = new Map<number, Float32Array[]>();

/**
 * `n` normalised D^3 patches cut from a phantom chest (64 x 64 x 40 at 1 mm) at seeded
 * positions centred inside the lungs.
 */
export function phantomPatches(seed: number, n: number, d: number): Float32Array[] {
  const key = seed * 100000 + n * 100 + d;
  const hit = cache.get(key);
  if (hit) return hit;
  const p = makePhantom({ seed, matrix: 64, slices: 40, pixelSpacing: 1, sliceSpacing: 1 });
  const [nz, ny, nx] = p.shape;
  const rng = new RunRng(seed);
  const out: Float32Array[] = [];
  let guard = 0;
  while (out.length < n && guard++ < 100000) {
    const z0 = Math.floor(rng.next() * (nz - d + 1));
    const y0 = Math.floor(rng.next() * (ny - d + 1));
    const x0 = Math.floor(rng.next() * (nx - d + 1));
    const c = ((z0 + (d >> 1)) * ny + y0 + (d >> 1)) * nx + x0 + (d >> 1);
    if (!p.lungMask[c] && guard < 50000) continue;
    const a = new Float32Array(d * d * d);
    for (let z = 0; z < d; z++)
      for (let y = 0; y < d; y++)
        for (let x = 0; x < d; x++)
          a[(z * d + y) * d + x] = normaliseHu(p.hu[((z0 + z) * ny + y0 + y) * nx + x0 + x]);
    out.push(a);
  }
  cache.set(key, out);
  return out;
}

/** Batches of `b` patches in a seeded order (a fresh shuffle per seed). */
export function* batches(
  patches: Float32Array[],
  b: number,
  seed: number,
  count: number,
): Generator<Batch> {
  const rng = new RunRng(seed);
  const d = Math.round(Math.cbrt(patches[0].length));
  for (let i = 0; i < count; i++) {
    const buf = new Float32Array(b * d * d * d);
    for (let j = 0; j < b; j++)
      buf.set(patches[Math.floor(rng.next() * patches.length)], j * d * d * d);
    yield { xs: tf.tensor5d(buf, [b, d, d, d, 1]), ys: tf.tensor2d(buf, [b, d * d * d]) };
  }
}

/** A dataset whose every iteration runs `make` again (fresh tensors): what `trainGmcae` takes per epoch. */
export function dataset(make: () => Iterable<Batch>): tf.data.Dataset<Batch> {
  return tf.data.generator(
    () => make()[Symbol.iterator]() as unknown as Iterator<tf.TensorContainer>,
  ) as unknown as tf.data.Dataset<Batch>;
}
