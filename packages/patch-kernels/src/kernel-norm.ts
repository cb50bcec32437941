/** Normalisation `v -> (v + offset) * scale + shift`, optionally clipped to [-1, 1]. */
export interface KernelNorm {
  scale: number;
  shift: number;
  clip: boolean;
}

/** The clamp of the normalised values: [-1, 1], or no bound when `clip` is off. */
export function clampOf(norm: KernelNorm): [lo: number, hi: number] {
  return norm.clip ? [-1, 1] : [Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY];
}

/** `scale` and `shift` mapping `min` HU to -1 and `max` HU to +1. */
export function kernelNorm(min: number, max: number, clip: boolean): KernelNorm {
  const scale = 2 / (max - min);
  return { scale, shift: -1 - min * scale, clip };
}
