/**
 * Nodules: sizes drawn to satisfy the requested label, centres drawn inside a lung (or
 * against its outer wall for juxtapleural ones), painted as spheres clipped to the lungs.
 */
import { Code, type Layout, MAX_NODULES, NODULE_BASE } from "./anatomy.js";
import { codeSet, paintSphere, type SphereCount } from "./paint.js";
import type { Rng } from "./rng.js";
import { CANCER_DIAMETER_MM, type Nodule, type NoduleSpec } from "./types.js";

/** Codes a nodule may paint over, and codes that mean "outside the lung" (pleura touched). */
const NODULE_OVER = codeSet(Code.LUNG, Code.VESSEL);
const OUTSIDE_LUNG = codeSet(
  Code.AIR,
  Code.FAT,
  Code.SOFT,
  Code.BONE,
  Code.TABLE,
  Code.GAS,
  Code.OUTSIDE_FOV,
);

/** Largest nodule diameter (mm) that fits a lung of this layout. */
export function maxNoduleDiameter(L: Layout): number {
  const l = L.lungs[0];
  return Math.min(30, 1.7 * Math.min(l.rx, l.ry), 0.6 * (L.lungZ1 - L.lungZ0));
}

/** Turns a count (+ optional label) into explicit specs with sizes, HU and placement kind. */
export function drawNoduleSpecs(
  rng: Rng,
  count: number,
  cancer: boolean | undefined,
  dmax: number,
  margin: { cancerMinMm?: number; benignMaxMm?: number } = {},
): NoduleSpec[] {
  const cancerMin = margin.cancerMinMm ?? CANCER_DIAMETER_MM;
  const benignMax = margin.benignMaxMm ?? CANCER_DIAMETER_MM - 0.5;
  if (!(cancerMin >= CANCER_DIAMETER_MM && cancerMin <= 30)) {
    throw new RangeError(
      `phantom: cancerMinMm must be in [${CANCER_DIAMETER_MM}, 30], got ${cancerMin}`,
    );
  }
  if (!(benignMax >= 3 && benignMax < CANCER_DIAMETER_MM)) {
    throw new RangeError(
      `phantom: benignMaxMm must be in [3, ${CANCER_DIAMETER_MM}), got ${benignMax}`,
    );
  }
  if (cancer === true && dmax < cancerMin) {
    throw new RangeError(
      `phantom: a ${cancerMin} mm nodule does not fit these lungs (largest ${dmax.toFixed(1)} mm); use a larger matrix, pixel spacing or scan length`,
    );
  }
  const n = cancer === true ? Math.max(1, count) : count;
  const small = Math.min(benignMax, dmax);
  const specs: NoduleSpec[] = [];
  for (let i = 0; i < n; i++) {
    let d: number;
    if (cancer === true && i === 0) d = rng.uniform(cancerMin, dmax);
    else if (cancer !== undefined) d = rng.uniform(3, small);
    else d = Math.exp(rng.uniform(Math.log(3), Math.log(Math.max(3, dmax))));
    specs.push({
      diameterMm: Math.round(d * 10) / 10,
      hu: rng.int(0, 60),
      juxtapleural: rng.float() < 0.35,
    });
  }
  if (n >= 2 && !specs.some((s) => s.juxtapleural)) specs[n - 1].juxtapleural = true;
  return specs;
}

/** Paints nodules into the label volume; returns them with centres in LPS mm. */
export function paintNodules(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  origin: readonly [number, number, number],
  L: Layout,
  specs: NoduleSpec[],
  rng: Rng,
): Nodule[] {
  if (specs.length > MAX_NODULES) throw new RangeError(`phantom: at most ${MAX_NODULES} nodules`);
  const LL = L.lungZ1 - L.lungZ0;
  const placed: Array<[number, number, number, number]> = [];
  const out: Nodule[] = [];
  specs.forEach((spec, k) => {
    if (!(spec.diameterMm > 0))
      throw new RangeError(`phantom: nodule ${k} has diameter ${spec.diameterMm}`);
    const r = spec.diameterMm / 2;
    let c: [number, number, number];
    if (spec.center) {
      c = [spec.center[0] - origin[0], spec.center[1] - origin[1], spec.center[2] - origin[2]];
    } else {
      let best: [number, number, number] = [0, 0, 0];
      for (let tries = 0; tries < 40; tries++) {
        best = placeNodule(rng, L, r, spec.juxtapleural === true, spacing, LL);
        if (
          placed.every(
            (p) => Math.hypot(p[0] - best[0], p[1] - best[1], p[2] - best[2]) > p[3] + r + 1,
          )
        )
          break;
      }
      c = best;
    }
    const cnt: SphereCount = { painted: 0, blocked: 0 };
    paintSphere(
      lab,
      shape,
      spacing,
      c[0],
      c[1],
      c[2],
      r,
      NODULE_BASE + k,
      NODULE_OVER,
      cnt,
      OUTSIDE_LUNG,
    );
    placed.push([c[0], c[1], c[2], r]);
    out.push({
      center: [round4(c[0] + origin[0]), round4(c[1] + origin[1]), round4(c[2] + origin[2])],
      diameterMm: spec.diameterMm,
      hu: spec.hu ?? rng.int(0, 60),
      juxtapleural: cnt.blocked > 0,
      voxels: cnt.painted,
    });
  });
  return out;
}

function placeNodule(
  rng: Rng,
  L: Layout,
  r: number,
  juxta: boolean,
  spacing: readonly [number, number, number],
  LL: number,
): [number, number, number] {
  // z inside the part of the lung at full size and above the heart (t in 0.3..0.65).
  const zlo = L.lungZ0 + 0.3 * LL + r;
  const zhi = L.lungZ0 + 0.65 * LL - r;
  const Z = zhi > zlo ? rng.uniform(zlo, zhi) : (zlo + zhi) / 2;
  const side = rng.float() < 0.5 ? 0 : 1;
  const l = L.lungs[side];
  if (juxta) {
    // On the lateral / posterior wall, centre 0.35 r inside the boundary: the sphere crosses it.
    const a =
      side === 0
        ? rng.uniform(0.55 * Math.PI, 1.35 * Math.PI)
        : rng.uniform(-0.35 * Math.PI, 0.45 * Math.PI);
    const bx = l.cx + l.rx * Math.cos(a);
    const by = l.cy + l.ry * Math.sin(a);
    const nx = (bx - l.cx) / (l.rx * l.rx);
    const ny = (by - l.cy) / (l.ry * l.ry);
    const nn = Math.hypot(nx, ny);
    return [bx - (0.35 * r * nx) / nn, by - (0.35 * r * ny) / nn, Z];
  }
  const m = 1.5 * Math.max(spacing[0], spacing[1], spacing[2]);
  const ax = Math.max(0, l.rx - r - m);
  const ay = Math.max(0, l.ry - r - m);
  const rho = Math.sqrt(rng.float());
  const phi = rng.uniform(0, 2 * Math.PI);
  return [l.cx + ax * rho * Math.cos(phi), l.cy + ay * rho * Math.sin(phi), Z];
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}
