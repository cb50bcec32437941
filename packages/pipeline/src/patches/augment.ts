import type { Vec3 } from "@lungflow/volume";
import {
  applySymmetry,
  createRng,
  normalizeHu,
  SYMMETRY_COUNT,
  symmetryShape,
} from "@lungflow/volume";
import { PatchStreamError } from "./errors.js";

/**
 * Augmentation and normalisation of HU patches (and whole volumes) for the networks.
 * Parameters are drawn from a per-patch seed apart from their application (TorchIO's
 * `get_params` / `apply_transform`), and each patch records what was applied, so any
 * patch can be replayed from its HU source with {@link replayTransforms}.
 */
export interface AugmentOptions {
  /**
   * Draw one of the 48 symmetries of the cube per patch (rotations and mirrorings; kdsb17's
   * 48-fold augmentation). Default true. Needs cubic patches (a permutation of axes would
   * change a non-cubic patch's shape within a batch).
   */
  symmetry?: boolean;
  /** Add a HU offset drawn uniformly in `[lo, hi)` per patch (scanner calibration jitter). Default none. */
  huOffset?: readonly [number, number];
  /** HU mapped to -1 (default -1000, air). */
  min?: number;
  /** HU mapped to +1 (default 400). */
  max?: number;
  /** Clip the normalised values to [-1, 1] (default true). */
  clip?: boolean;
}

/** One applied transform: its name and the drawn parameters. */
export type PatchTransform =
  | { name: "symmetry"; params: { index: number } }
  | { name: "huOffset"; params: { offset: number } }
  | { name: "normalize"; params: { min: number; max: number; clip: boolean } };

/** Fully resolved augmentation settings (what the workers receive). */
export interface ResolvedAugment {
  symmetry: boolean;
  huOffset: [number, number] | null;
  min: number;
  max: number;
  clip: boolean;
}

/** Validates and fills in defaults. */
export function resolveAugment(opts: AugmentOptions | false = {}): ResolvedAugment {
  const o = opts === false ? { symmetry: false } : opts;
  const min = o.min ?? -1000;
  const max = o.max ?? 400;
  if (!(Number.isFinite(min) && Number.isFinite(max) && max > min)) {
    throw new PatchStreamError("BAD_OPTION", `augment: max (${max}) must exceed min (${min}) HU`, {
      min,
      max,
    });
  }
  const off = o.huOffset ?? null;
  if (
    off &&
    !(off.length === 2 && Number.isFinite(off[0]) && Number.isFinite(off[1]) && off[1] >= off[0])
  ) {
    throw new PatchStreamError(
      "BAD_OPTION",
      `augment: huOffset must be [lo, hi] HU with lo <= hi, got ${JSON.stringify(off)}`,
      {},
    );
  }
  return {
    symmetry: o.symmetry ?? true,
    huOffset: off ? [off[0], off[1]] : null,
    min,
    max,
    clip: o.clip ?? true,
  };
}

/** The parameters drawn for one patch: a symmetry index (0 = none) and a HU offset. */
export interface DrawnParams {
  symmetry: number;
  offset: number;
}

/** Draws the parameters of one patch from its seed (pure: same seed, same draw). */
export function drawParams(seed: number, a: ResolvedAugment): DrawnParams {
  const rng = createRng(seed);
  const symmetry = a.symmetry ? rng.int(SYMMETRY_COUNT) : 0;
  // float32-exact so that the worker's fused kernel and a replay see the same offset.
  const offset = a.huOffset ? Math.fround(rng.uniform(a.huOffset[0], a.huOffset[1])) : 0;
  return { symmetry, offset };
}

/** The record of what was applied to a patch, in order. */
export function transformsOf(p: DrawnParams, a: ResolvedAugment): PatchTransform[] {
  const t: PatchTransform[] = [];
  if (a.symmetry) t.push({ name: "symmetry", params: { index: p.symmetry } });
  if (a.huOffset) t.push({ name: "huOffset", params: { offset: p.offset } });
  t.push({ name: "normalize", params: { min: a.min, max: a.max, clip: a.clip } });
  return t;
}

/**
 * Applies recorded transforms to a HU patch (or volume) with the plain, slow operations of
 * `@lungflow/volume`: the reference the fused worker kernel is tested against, and the way
 * to reproduce any training patch from its location.
 */
export function replayTransforms(
  hu: Int16Array,
  shape: Vec3,
  transforms: readonly PatchTransform[],
): { data: Float32Array; shape: Vec3 } {
  let data: Int16Array | Float32Array = hu;
  let sh: Vec3 = [...shape] as Vec3;
  let out: Float32Array | undefined;
  for (const t of transforms) {
    if (t.name === "symmetry") {
      const r: { data: Int16Array | Float32Array; shape: Vec3 } = applySymmetry(
        data,
        sh,
        t.params.index,
      );
      data = r.data;
      sh = r.shape;
    } else if (t.name === "huOffset") {
      const f: Float32Array = new Float32Array(data.length);
      for (let i = 0; i < f.length; i++) f[i] = data[i] + t.params.offset;
      data = f;
    } else if (t.name === "normalize") {
      out = normalizeHu(data, t.params);
      data = out;
    }
  }
  return { data: out ?? Float32Array.from(data), shape: sh };
}

/** Output shape of a patch or volume of `shape` under symmetry `index`. */
export function augmentedShape(shape: Vec3, index: number): Vec3 {
  return symmetryShape(shape, index);
}
