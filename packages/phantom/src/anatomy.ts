/**
 * The chest layout of one phantom: every structure's position and size in local mm
 * (X = x * dx, Y = y * dy, Z = z * dz from voxel (0,0,0)), drawn once per patient.
 * In-plane sizes are fractions of the field of view F = columns * dx, so a 96 x 96 slice
 * at 0.7 mm holds a whole (small) chest just like a 512 x 512 one; lengths along z are
 * fractions of the scanned length. Image y grows posteriorly (LPS), so the table is at
 * the bottom of the image; x grows to the patient's left, so the right lung is at small x.
 */
import type { Rng } from "./rng.js";

/** Tissue codes of the label volume; nodule k is NODULE_BASE + k. */
export const Code = {
  AIR: 0,
  FAT: 1,
  SOFT: 2,
  LUNG: 3,
  AIRWAY: 4,
  BONE: 5,
  TABLE: 6,
  GAS: 7,
  VESSEL: 8,
  OUTSIDE_FOV: 9,
} as const;
export const NODULE_BASE = 32;
export const MAX_NODULES = 200;

/** Mean HU of each tissue code (lung gets texture on top, everything gets noise). */
export const TISSUE_HU: Record<number, number> = {
  [Code.AIR]: -1000,
  [Code.FAT]: -100,
  [Code.SOFT]: 40,
  [Code.LUNG]: -850,
  [Code.AIRWAY]: -1000,
  [Code.BONE]: 700,
  [Code.TABLE]: 100,
  [Code.GAS]: -980,
  [Code.VESSEL]: 40,
  [Code.OUTSIDE_FOV]: -1000,
};

export interface Ellipse {
  cx: number;
  cy: number;
  rx: number;
  ry: number;
}

/**
 * Where and how big the body is, for chests not sized by their field of view (the
 * realistic preset). Without it, in-plane sizes are fractions of the field of view, the
 * body is centred, and the lungs fill the scan minus a small margin at each end.
 */
export interface BodyFrame {
  /** In-plane anatomy length S (mm): body, lungs, heart, ... are fractions of it. */
  scale: number;
  /** Offset (mm) of the body from the centre of the field of view: x to the patient's left, y posterior. */
  shiftX: number;
  shiftY: number;
  /** Lung bases and apices (mm above the centre of slice 0). */
  lungZ0: number;
  lungZ1: number;
}

export interface Layout {
  /** Field of view (mm) and in-plane centre of the body (local mm). */
  fov: number;
  /** In-plane anatomy length (mm): the field of view, or the {@link BodyFrame}'s scale. */
  scale: number;
  cX: number;
  cY: number;
  body: Ellipse;
  fat: number;
  /** Table slab (local mm); null without a table. */
  table: { x0: number; x1: number; y0: number; y1: number } | null;
  /** Right lung (small x) then left lung, at full size. */
  lungs: [Ellipse, Ellipse];
  /**
   * Anterior medial lobes of the two lungs (below the carina, above the heart): they bring
   * the lungs within 0.03 F of each other at the anterior junction line, as in real chests,
   * so kdsb17's 5x1x5 dilation joins the lungs.
   */
  junction: [Ellipse, Ellipse];
  /** Lung extent along z (local mm). */
  lungZ0: number;
  lungZ1: number;
  heart: Ellipse;
  spine: { cx: number; cy: number; r: number; canalCy: number; canalR: number; ringR: number };
  discPeriod: number;
  ribs: { angles: number[]; rx: number; ry: number; r: number; period: number; phase: number };
  trachea: { cx: number; cy: number; r: number };
  carinaZ: number;
  /** Main bronchi as tube segments [a, b, ra, rb] per lung. */
  bronchi: Array<[[number, number, number], [number, number, number], number, number]>;
  /** Hilum points (local mm), roots of the vessel trees. */
  hila: [[number, number, number], [number, number, number]];
  gas: Array<{ X: number; Y: number; Z: number; rx: number; ry: number; rz: number }>;
}

/** Relative lung size at fraction t of its z extent (0 = diaphragm, 1 = apex). */
export function lungScale(t: number): number {
  if (t < 0 || t > 1) return 0;
  if (t < 0.2) return 0.55 + 0.45 * Math.sqrt(t / 0.2);
  if (t <= 0.65) return 1;
  const u = (t - 0.65) / 0.35;
  return Math.sqrt(Math.max(0, 1 - u * u));
}

/** Relative size of the anterior junction lobes at lung fraction t (0.15..0.6). */
export function junctionScale(t: number): number {
  if (t < 0.15 || t > 0.6) return 0;
  const u = (t - 0.375) / 0.225;
  return Math.sqrt(Math.max(0, 1 - u ** 4));
}

/** Relative heart size at lung fraction t (it sits on the diaphragm, below t = 0.3). */
export function heartScale(t: number): number {
  if (t > 0.3) return 0;
  if (t < 0.15) return 1;
  const u = (t - 0.15) / 0.15;
  return Math.sqrt(Math.max(0, 1 - u * u));
}

/** Draws the layout of one chest. */
export function drawLayout(
  rng: Rng,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  opts: { table: boolean; bowelGas: boolean },
  frame?: BodyFrame,
): Layout {
  const [nz, ny, nx] = shape;
  const [dz, dy, dx] = spacing;
  const fov = nx * dx;
  // F: the length in-plane sizes are fractions of (the field of view unless a frame says).
  const F = frame ? frame.scale : fov;
  const fX = ((nx - 1) / 2) * dx;
  const cX = fX + (frame ? frame.shiftX : 0);
  const cY = ((ny - 1) / 2) * dy + (frame ? frame.shiftY : 0);
  const k = rng.uniform(0.95, 1.03);
  const kl = rng.uniform(0.93, 1.04);
  const body: Ellipse = { cx: cX, cy: cY - 0.04 * F, rx: 0.44 * F * k, ry: 0.3 * F * k };
  const fat = Math.max(1.5 * dx, 0.03 * F * rng.uniform(0.7, 1.3));
  const gapT = Math.max(3 * dy, 0.03 * F);
  const table = opts.table
    ? {
        x0: fX - 0.42 * F,
        x1: fX + 0.42 * F,
        y0: body.cy + body.ry + gapT,
        y1: body.cy + body.ry + gapT + Math.max(3 * dy, 0.035 * F),
      }
    : null;
  const lung = (s: number): Ellipse => ({
    cx: cX + s * 0.2 * F,
    cy: body.cy + 0.01 * F,
    rx: 0.14 * F * kl,
    ry: 0.18 * F * kl,
  });
  const zTop = (nz - 1) * dz;
  const margin = Math.max(3 * dz, 0.08 * zTop);
  const lungZ0 = frame ? frame.lungZ0 : margin;
  const lungZ1 = frame ? frame.lungZ1 : zTop - margin;
  const LL = lungZ1 - lungZ0;
  const trachea = { cx: cX, cy: body.cy - 0.07 * F, r: Math.max(1.5 * dx, 0.022 * F * kl) };
  const carinaZ = lungZ0 + 0.62 * LL;
  const rb = Math.max(1.2 * dx, 0.016 * F * kl);
  const bronchi: Layout["bronchi"] = [];
  const hila: [number, number, number][] = [];
  for (const s of [-1, 1]) {
    const hilum: [number, number, number] = [cX + s * 0.1 * F, body.cy, carinaZ - 0.07 * LL];
    const inner: [number, number, number] = [
      cX + s * 0.16 * F,
      body.cy + 0.01 * F,
      carinaZ - 0.12 * LL,
    ];
    bronchi.push([[trachea.cx, trachea.cy, carinaZ + 0.5 * trachea.r], hilum, rb, rb]);
    bronchi.push([hilum, inner, rb, 0.7 * rb]);
    hila.push(hilum);
  }
  const ribR = Math.max(1.0 * dx, 0.017 * F);
  const angles: number[] = [];
  for (let a = -70; a <= 80; a += 25) angles.push((a * Math.PI) / 180);
  const ribPhase = rng.float();
  // Gas is drawn last so that switching it on changes nothing else.
  const gas: Layout["gas"] = [];
  if (opts.bowelGas) {
    const zMax = lungZ0 - 2 * dz;
    const n = rng.int(3, 6);
    for (let i = 0; i < n && zMax > dz; i++) {
      const r = Math.min(rng.uniform(0.03, 0.06) * F, 0.25 * F);
      const rz = Math.min(r, zMax / 2);
      gas.push({
        X: cX + rng.uniform(-0.25, 0.25) * F,
        Y: body.cy + rng.uniform(-0.15, 0.05) * F,
        Z: rng.uniform(rz, Math.max(rz, zMax - rz)),
        rx: r * rng.uniform(0.7, 1.3),
        ry: r * rng.uniform(0.7, 1.3),
        rz,
      });
    }
  }
  return {
    fov,
    scale: F,
    cX,
    cY,
    body,
    fat,
    table,
    lungs: [lung(-1), lung(1)],
    junction: [-1, 1].map((sd) => ({
      cx: cX + sd * 0.09 * F,
      cy: body.cy - 0.1 * F,
      rx: 0.075 * F,
      ry: 0.07 * F,
    })) as [Ellipse, Ellipse],
    lungZ0,
    lungZ1,
    heart: { cx: cX + 0.05 * F, cy: body.cy - 0.06 * F, rx: 0.15 * F, ry: 0.12 * F },
    spine: {
      cx: cX,
      cy: body.cy + 0.17 * F,
      r: 0.045 * F,
      canalCy: body.cy + 0.235 * F,
      canalR: Math.max(dx, 0.017 * F),
      ringR: Math.max(2 * dx, 0.03 * F),
    },
    discPeriod: Math.max(4 * dz, zTop / 12),
    ribs: {
      angles,
      rx: body.rx - fat - 0.035 * F,
      ry: body.ry - fat - 0.03 * F,
      r: ribR,
      period: Math.max(4 * dz, zTop / 10),
      phase: ribPhase,
    },
    trachea,
    carinaZ,
    bronchi,
    hila: [hila[0], hila[1]],
    gas,
  };
}
