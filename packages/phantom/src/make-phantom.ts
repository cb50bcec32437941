import { Code, drawLayout, NODULE_BASE, TISSUE_HU } from "./anatomy.js";
import { fovMask } from "./encoding.js";
import { checkRange as check, phantomGeometry } from "./geometry.js";
import { drawNoduleSpecs, maxNoduleDiameter, paintNodules } from "./nodules.js";
import { hashSeed, Rng } from "./rng.js";
import { paintBronchi, paintGas, paintSlices, paintVessels } from "./structures.js";
import { CANCER_DIAMETER_MM, type Phantom, type PhantomOptions } from "./types.js";

/** Lowest and highest HU a phantom holds (a 12-bit CT range). */
export const HU_MIN = -1024;
export const HU_MAX = 3071;

/** Amplitude (HU) of the lung texture and of its posterior (gravity-dependent) gradient. */
const LUNG_TEXTURE_HU = 25;
const LUNG_GRADIENT_HU = 15;
/** Cell size (mm) of the lung texture lattice. */
const TEXTURE_CELL_MM = 6;

/**
 * The largest nodule diameter (mm) that fits the lungs of the phantom `opts` would make
 * (draws only its layout: cheap). `makePhantom` with `cancer: true` throws when it is < 10.
 */
export function maxNoduleDiameterFor(opts: PhantomOptions): number {
  const g = phantomGeometry(opts);
  const L = drawLayout(
    new Rng(hashSeed(opts.seed, 11)),
    g.shape,
    g.spacing,
    { table: opts.table ?? true, bowelGas: opts.bowelGas ?? false },
    g.frame,
  );
  return maxNoduleDiameter(L);
}

/**
 * Makes a synthetic chest CT with its ground truth (see the package README for the
 * anatomy). Deterministic: the same options give the same arrays bit for bit.
 *
 * @throws RangeError for options out of range (the message names the option).
 */
export function makePhantom(opts: PhantomOptions): Phantom {
  const g = phantomGeometry(opts);
  const seed = opts.seed;
  const [nz, n] = g.shape;
  const [dz, dx] = g.spacing;
  const noise = check("noiseHu", opts.noiseHu ?? 20, 0, 200);
  const step = opts.huStep ?? 1;
  if (step !== 1 && step !== 2) throw new RangeError(`phantom: huStep must be 1 or 2, got ${step}`);
  const shape: [number, number, number] = [nz, n, n];
  const spacing: [number, number, number] = [dz, dx, dx];
  const origin: [number, number, number] = opts.origin
    ? [opts.origin[0], opts.origin[1], opts.origin[2]]
    : [r4((-(n - 1) / 2) * dx), r4((-(n - 1) / 2) * dx + 10), r4(-(nz - 1) * dz - 40.25)];
  if (!origin.every(Number.isFinite))
    throw new RangeError("phantom: origin must be 3 finite numbers");

  const L = drawLayout(
    new Rng(hashSeed(seed, 11)),
    shape,
    spacing,
    { table: opts.table ?? true, bowelGas: opts.bowelGas ?? false },
    g.frame,
  );
  const lab = new Uint8Array(nz * n * n);
  paintSlices(lab, shape, spacing, L);
  paintBronchi(lab, shape, spacing, L);
  if (L.gas.length) paintGas(lab, shape, spacing, L);
  if (opts.vessels ?? true) paintVessels(lab, shape, spacing, L, new Rng(hashSeed(seed, 12)));
  const nrng = new Rng(hashSeed(seed, 13));
  const specs =
    typeof opts.nodules === "number"
      ? drawNoduleSpecs(
          nrng,
          check("nodules", opts.nodules, 0, 200, true),
          opts.cancer,
          maxNoduleDiameter(L),
          { cancerMinMm: opts.cancerMinMm, benignMaxMm: opts.benignMaxMm },
        )
      : (opts.nodules ?? []);
  const nodules = paintNodules(lab, shape, spacing, origin, L, specs, nrng);

  const fovRadiusPx = n / 2;
  const hu = new Int16Array(lab.length);
  const lungMask = new Uint8Array(lab.length);
  const airwayMask = new Uint8Array(lab.length);
  rasterise(
    lab,
    hu,
    lungMask,
    airwayMask,
    shape,
    spacing,
    L.lungs[0].cy,
    L.lungs[0].ry,
    nodules.map((d) => d.hu),
    {
      seed,
      noise,
      step,
      fovRadiusPx,
    },
  );
  const label: 0 | 1 = nodules.some((d) => d.diameterMm >= CANCER_DIAMETER_MM) ? 1 : 0;
  return {
    hu,
    shape,
    spacing,
    origin,
    lungMask,
    airwayMask,
    nodules,
    label,
    patientId: opts.patientId ?? new Rng(hashSeed(seed, 14)).hex(32),
    seed,
    fovRadiusPx,
  };
}

/** Label volume -> HU (tissue mean + lung texture + Gaussian noise), masks, circular FOV. */
function rasterise(
  lab: Uint8Array,
  hu: Int16Array,
  lungMask: Uint8Array,
  airwayMask: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  lungCy: number,
  lungRy: number,
  noduleHu: number[],
  o: { seed: number; noise: number; step: number; fovRadiusPx: number },
): void {
  const [nz, ny, nx] = shape;
  const [dz, dy, dx] = spacing;
  // Integer arithmetic in the voxel loop (several times faster than doubles + Math.round).
  const base = new Int32Array(256);
  for (const [c, v] of Object.entries(TISSUE_HU)) base[Number(c)] = v;
  for (let k = 0; k < noduleHu.length; k++) base[NODULE_BASE + k] = Math.round(noduleHu[k]);
  // Gaussian noise from a table of 65536 Box-Muller deviates indexed by a xorshift32 stream.
  const trng = new Rng(hashSeed(o.seed, 15));
  const table = new Int32Array(65536);
  for (let i = 0; i < table.length; i++) table[i] = Math.round(o.noise * trng.normal());
  // Lung texture: value noise on a coarse lattice, trilinear, plus a posterior gradient.
  const gx = Math.ceil((nx * dx) / TEXTURE_CELL_MM) + 2;
  const gy = Math.ceil((ny * dy) / TEXTURE_CELL_MM) + 2;
  const gz = Math.ceil((nz * dz) / TEXTURE_CELL_MM) + 2;
  const lattice = new Float64Array(gx * gy * gz);
  for (let i = 0; i < lattice.length; i++) lattice[i] = LUNG_TEXTURE_HU * (2 * trng.float() - 1);
  const ix = new Int32Array(nx);
  const wx = new Float64Array(nx);
  for (let x = 0; x < nx; x++) {
    const f = (x * dx) / TEXTURE_CELL_MM;
    ix[x] = Math.floor(f);
    wx[x] = f - ix[x];
  }
  const slab = new Float64Array(gx * gy);
  const row = new Float64Array(gx);
  const fovIn = fovMask(ny, nx, o.fovRadiusPx);
  const step = o.step;
  // Locals, not module bindings, in the voxel loop (a transpiled import is a getter call).
  const LUNG = Code.LUNG;
  const VESSEL = Code.VESSEL;
  const AIRWAY = Code.AIRWAY;
  const lo = HU_MIN;
  const hi = HU_MAX;
  let s = hashSeed(o.seed, 16) | 1;
  for (let z = 0; z < nz; z++) {
    const fz = (z * dz) / TEXTURE_CELL_MM;
    const iz = Math.floor(fz);
    const wz = fz - iz;
    for (let i = 0; i < gx * gy; i++) {
      slab[i] = lattice[iz * gx * gy + i] * (1 - wz) + lattice[(iz + 1) * gx * gy + i] * wz;
    }
    for (let y = 0; y < ny; y++) {
      const fy = (y * dy) / TEXTURE_CELL_MM;
      const iy = Math.floor(fy);
      const wy = fy - iy;
      for (let i = 0; i < gx; i++)
        row[i] = slab[iy * gx + i] * (1 - wy) + slab[(iy + 1) * gx + i] * wy;
      const grad = (LUNG_GRADIENT_HU * (y * dy - lungCy)) / lungRy;
      const off = (z * ny + y) * nx;
      for (let x = 0; x < nx; x++) {
        const i = off + x;
        const c = lab[i];
        s ^= s << 13;
        s ^= s >>> 17;
        s ^= s << 5;
        if (fovIn[y * nx + x] === 0) {
          hu[i] = -1000;
          continue;
        }
        let v = base[c] + table[s >>> 16];
        if (c === LUNG) {
          v += (row[ix[x]] * (1 - wx[x]) + row[ix[x] + 1] * wx[x] + grad) | 0;
          lungMask[i] = 1;
        } else if (c === VESSEL) lungMask[i] = 1;
        else if (c === AIRWAY) airwayMask[i] = 1;
        if (step === 2) v &= ~1; // even values (rounded down) so that RescaleSlope 2 is exact
        // biome-ignore lint/complexity/useMathMinMax: integer clamp in the voxel loop
        hu[i] = v < lo ? lo : v > hi ? hi : v;
      }
    }
  }
}

function r4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
