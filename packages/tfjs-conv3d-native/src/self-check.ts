import type { NativeAddon } from "./load-addon.js";

/** Small problems that reach every tile shape: 8-, 16- and 2x16-lane panels, partial panels. */
const CASES: Array<{ c: number; co: number; s: number; pad: number }> = [
  { c: 1, co: 8, s: 1, pad: 1 },
  { c: 3, co: 16, s: 2, pad: 0 },
  { c: 16, co: 40, s: 1, pad: 1 },
  { c: 24, co: 5, s: 2, pad: 1 },
];

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    a[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return a;
}

function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    if (!(diff <= d)) d = diff; // NaN-propagating max
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / (m || 1);
}

/**
 * Runs the three operations with `isa` and with the portable kernels on the same random
 * problems and returns the worst relative error (Infinity if any result is NaN). Guards
 * ISA paths that cannot be exercised by the test suite on the build machine (AVX-512 on
 * an AVX2-only CPU): a wrong kernel is never registered.
 */
export function selfCheck(addon: NativeAddon, isa: string): number {
  const D = 5;
  const H = 6;
  const W = 7;
  let worst = 0;
  for (const [i, k] of CASES.entries()) {
    const od = Math.floor((D + 2 * k.pad - 3) / k.s) + 1;
    const oh = Math.floor((H + 2 * k.pad - 3) / k.s) + 1;
    const ow = Math.floor((W + 2 * k.pad - 3) / k.s) + 1;
    const geom = Int32Array.from([
      1,
      D,
      H,
      W,
      k.c,
      3,
      3,
      3,
      od,
      oh,
      ow,
      k.co,
      k.s,
      k.s,
      k.s,
      k.pad,
      k.pad,
      k.pad,
    ]);
    const x = rand(D * H * W * k.c, 11 + i);
    const w = rand(27 * k.c * k.co, 23 + i);
    const dy = rand(od * oh * ow * k.co, 37 + i);
    const run = (name: string) => {
      if (!addon.setIsa(name)) throw new Error(`ISA ${name} unavailable`);
      const y = new Float32Array(dy.length);
      const dx = new Float32Array(x.length);
      const dw = new Float32Array(w.length);
      addon.forward(x, w, y, geom);
      addon.backpropInput(dy, w, dx, geom);
      addon.backpropFilter(x, dy, dw, geom);
      return [y, dx, dw];
    };
    const ref = run("generic");
    const got = run(isa);
    for (let j = 0; j < 3; j++)
      worst = Math.max(
        worst,
        relErr(got[j], ref[j]) || 0,
        Number.isNaN(relErr(got[j], ref[j])) ? Infinity : 0,
      );
  }
  return worst;
}
