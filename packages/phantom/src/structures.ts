/**
 * Paints the label volume of one chest from its layout: per slice the 2D structures
 * (body, fat, table, lungs, heart, spine, ribs, trachea), then in 3D the bronchi, bowel
 * gas and vessel trees.
 */
import { Code, heartScale, junctionScale, type Layout, lungScale } from "./anatomy.js";
import { codeSet, fillEllipse, fillRect, paintTube } from "./paint.js";
import type { Rng } from "./rng.js";

const NOT_LUNG = codeSet(Code.FAT, Code.SOFT, Code.AIR);
const OVER_LUNG = codeSet(Code.LUNG);
const SOFT_ONLY = codeSet(Code.SOFT);
const AIRWAY_OVER = codeSet(Code.SOFT, Code.FAT, Code.LUNG, Code.VESSEL);

export function paintSlices(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  L: Layout,
): void {
  const [nz, ny, nx] = shape;
  const [dz, dy, dx] = spacing;
  const px = (v: number) => v / dx;
  const py = (v: number) => v / dy;
  const LL = L.lungZ1 - L.lungZ0;
  for (let z = 0; z < nz; z++) {
    const s = lab.subarray(z * ny * nx, (z + 1) * ny * nx);
    const Z = z * dz;
    const t = (Z - L.lungZ0) / LL;
    const b = L.body;
    if (L.table)
      fillRect(
        s,
        nx,
        ny,
        px(L.table.x0),
        px(L.table.x1),
        py(L.table.y0),
        py(L.table.y1),
        Code.TABLE,
      );
    fillEllipse(s, nx, ny, px(b.cx), py(b.cy), px(b.rx), py(b.ry), Code.FAT);
    fillEllipse(s, nx, ny, px(b.cx), py(b.cy), px(b.rx - L.fat), py(b.ry - L.fat), Code.SOFT);
    const ls = lungScale(t);
    if (ls > 0) {
      for (const l of L.lungs) {
        fillEllipse(s, nx, ny, px(l.cx), py(l.cy), px(l.rx * ls), py(l.ry * ls), Code.LUNG);
      }
    }
    const js = junctionScale(t);
    if (js > 0) {
      for (const l of L.junction) {
        fillEllipse(s, nx, ny, px(l.cx), py(l.cy), px(l.rx * js), py(l.ry * js), Code.LUNG);
      }
    }
    const hs = heartScale(t);
    if (hs > 0) {
      const h = L.heart;
      fillEllipse(s, nx, ny, px(h.cx), py(h.cy), px(h.rx * hs), py(h.ry * hs), Code.SOFT);
    }
    // Spine: vertebral body (a soft-tissue disc every period), bony ring round the canal.
    const sp = L.spine;
    const disc = (Z / L.discPeriod) % 1 < 0.2;
    if (!disc)
      fillEllipse(s, nx, ny, px(sp.cx), py(sp.cy), px(sp.r), py(sp.r), Code.BONE, NOT_LUNG);
    fillEllipse(
      s,
      nx,
      ny,
      px(sp.cx),
      py(sp.canalCy),
      px(sp.ringR),
      py(sp.ringR),
      Code.BONE,
      NOT_LUNG,
    );
    fillEllipse(s, nx, ny, px(sp.cx), py(sp.canalCy), px(sp.canalR), py(sp.canalR), Code.SOFT);
    // Ribs: round sections on an ellipse inside the chest wall, present in oblique z bands.
    const R = L.ribs;
    if (Z >= L.lungZ0 - 0.05 * LL && Z <= L.lungZ1) {
      for (let j = 0; j < R.angles.length; j++) {
        const a = R.angles[j];
        const shift = (0.6 * (a + 1.2)) / 2.6;
        if ((Z / R.period + shift + R.phase) % 1 >= 0.35) continue;
        const yc = b.cy + R.ry * Math.sin(a);
        for (const side of [-1, 1]) {
          const xc = b.cx + side * R.rx * Math.cos(a);
          fillEllipse(s, nx, ny, px(xc), py(yc), px(R.r), py(R.r), Code.BONE, NOT_LUNG);
        }
      }
    }
    if (Z >= L.carinaZ) {
      const tr = L.trachea;
      fillEllipse(s, nx, ny, px(tr.cx), py(tr.cy), px(tr.r), py(tr.r), Code.AIRWAY);
    }
  }
}

export function paintBronchi(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  L: Layout,
): void {
  for (const [a, b, ra, rb] of L.bronchi)
    paintTube(lab, shape, spacing, a, b, ra, rb, Code.AIRWAY, AIRWAY_OVER);
}

/** Bowel gas: ellipsoids of gas in the abdomen, below the lungs. */
export function paintGas(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  L: Layout,
): void {
  const [nz, ny, nx] = shape;
  const [dz, dy, dx] = spacing;
  for (const g of L.gas) {
    for (
      let z = Math.max(0, Math.ceil((g.Z - g.rz) / dz));
      z <= Math.min(nz - 1, Math.floor((g.Z + g.rz) / dz));
      z++
    ) {
      const u = (z * dz - g.Z) / g.rz;
      const f = Math.sqrt(Math.max(0, 1 - u * u));
      const s = lab.subarray(z * ny * nx, (z + 1) * ny * nx);
      fillEllipse(
        s,
        nx,
        ny,
        g.X / dx,
        g.Y / dy,
        (g.rx * f) / dx,
        (g.ry * f) / dy,
        Code.GAS,
        SOFT_ONLY,
      );
    }
  }
}

/**
 * Vessel trees: from each hilum a few trunks branch twice per generation, getting thinner
 * and shorter, painted only over lung (so they never leave it).
 */
export function paintVessels(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  L: Layout,
  rng: Rng,
): void {
  const F = L.scale;
  const LL = L.lungZ1 - L.lungZ0;
  const minR = 0.45 * Math.min(spacing[1], spacing[2]);
  const grow = (
    p: readonly [number, number, number],
    d: [number, number, number],
    len: number,
    r: number,
    depth: number,
  ) => {
    if (r < minR || depth > 6) return;
    const q: [number, number, number] = [p[0] + d[0] * len, p[1] + d[1] * len, p[2] + d[2] * len];
    paintTube(lab, shape, spacing, p, q, r, r * 0.85, Code.VESSEL, OVER_LUNG);
    for (let c = 0; c < 2; c++) {
      const nd: [number, number, number] = [
        d[0] + rng.normal() * 0.45,
        d[1] + rng.normal() * 0.45,
        d[2] + rng.normal() * 0.45,
      ];
      const n = Math.hypot(nd[0], nd[1], nd[2]) || 1;
      grow(
        q,
        [nd[0] / n, nd[1] / n, nd[2] / n],
        len * rng.uniform(0.65, 0.85),
        r * rng.uniform(0.62, 0.78),
        depth + 1,
      );
    }
  };
  for (let s = 0; s < 2; s++) {
    const side = s === 0 ? -1 : 1;
    const h = L.hila[s];
    const trunks: [number, number, number][] = [
      [side * 0.6, 0.1, 0.8],
      [side * 0.8, 0.3, 0.1],
      [side * 0.5, 0.4, -0.8],
      [side * 0.6, -0.5, -0.5],
      [side * 0.7, -0.6, 0.4],
      [side * 0.5, 0.7, -0.2],
    ];
    for (const t of trunks) {
      const dz = (t[2] * LL) / F; // z directions stretched with the lung's z extent
      const n = Math.hypot(t[0], t[1], dz);
      grow(
        h,
        [t[0] / n, t[1] / n, dz / n],
        0.1 * F * Math.max(1, LL / F),
        Math.max(0.8 * spacing[2], 0.006 * F),
        0,
      );
    }
  }
}
