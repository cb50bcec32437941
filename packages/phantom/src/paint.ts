/**
 * Rasterisers for the label volume: ellipses and rectangles as row spans per slice, and
 * spheres / tubes in 3D. `allow` is a 256-entry table of the codes a shape may overwrite
 * (null = any), so e.g. vessels paint only over lung and bones never over lung.
 */

/** 256-entry lookup table: 1 for the codes given. */
export function codeSet(...codes: number[]): Uint8Array {
  const t = new Uint8Array(256);
  for (const c of codes) t[c] = 1;
  return t;
}

/** Fills the ellipse centred at (cx, cy) px with semi-axes (rx, ry) px in one slice. */
export function fillEllipse(
  slice: Uint8Array,
  nx: number,
  ny: number,
  cx: number,
  cy: number,
  rx: number,
  ry: number,
  code: number,
  allow: Uint8Array | null = null,
): void {
  if (rx <= 0 || ry <= 0) return;
  const y0 = Math.max(0, Math.ceil(cy - ry));
  const y1 = Math.min(ny - 1, Math.floor(cy + ry));
  for (let y = y0; y <= y1; y++) {
    const t = (y - cy) / ry;
    const q = 1 - t * t;
    if (q < 0) continue;
    const hw = rx * Math.sqrt(q);
    const x0 = Math.max(0, Math.ceil(cx - hw));
    const x1 = Math.min(nx - 1, Math.floor(cx + hw));
    const row = y * nx;
    if (allow === null) slice.fill(code, row + x0, row + x1 + 1);
    else for (let i = row + x0; i <= row + x1; i++) if (allow[slice[i]] === 1) slice[i] = code;
  }
}

/** Fills the rectangle [x0, x1] x [y0, y1] (px, inclusive, clamped) in one slice. */
export function fillRect(
  slice: Uint8Array,
  nx: number,
  ny: number,
  x0: number,
  x1: number,
  y0: number,
  y1: number,
  code: number,
): void {
  const xa = Math.max(0, Math.ceil(x0));
  const xb = Math.min(nx - 1, Math.floor(x1));
  for (let y = Math.max(0, Math.ceil(y0)); y <= Math.min(ny - 1, Math.floor(y1)); y++) {
    if (xb >= xa) slice.fill(code, y * nx + xa, y * nx + xb + 1);
  }
}

/**
 * Result of painting a sphere: voxels painted, and voxels inside it that were not allowed
 * (only those whose code is in `countBlocked` when that table is given).
 */
export interface SphereCount {
  painted: number;
  blocked: number;
}

/**
 * Paints the sphere of radius `r` mm centred at local mm (X, Y, Z) (X = x * dx, ...) over
 * the allowed codes of the label volume `lab` of shape [nz, ny, nx].
 */
export function paintSphere(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  X: number,
  Y: number,
  Z: number,
  r: number,
  code: number,
  allow: Uint8Array | null,
  count?: SphereCount,
  countBlocked?: Uint8Array,
): void {
  const [nz, ny, nx] = shape;
  const [dz, dy, dx] = spacing;
  const r2 = r * r;
  const z0 = Math.max(0, Math.ceil((Z - r) / dz));
  const z1 = Math.min(nz - 1, Math.floor((Z + r) / dz));
  for (let z = z0; z <= z1; z++) {
    const ez = z * dz - Z;
    const rz2 = r2 - ez * ez;
    if (rz2 < 0) continue;
    const ry = Math.sqrt(rz2);
    const y0 = Math.max(0, Math.ceil((Y - ry) / dy));
    const y1 = Math.min(ny - 1, Math.floor((Y + ry) / dy));
    for (let y = y0; y <= y1; y++) {
      const ey = y * dy - Y;
      const q = rz2 - ey * ey;
      if (q < 0) continue;
      const rx = Math.sqrt(q);
      const x0 = Math.max(0, Math.ceil((X - rx) / dx));
      const x1 = Math.min(nx - 1, Math.floor((X + rx) / dx));
      const row = (z * ny + y) * nx;
      for (let i = row + x0; i <= row + x1; i++) {
        if (allow === null || allow[lab[i]] === 1) {
          lab[i] = code;
          if (count) count.painted++;
        } else if (count && (countBlocked === undefined || countBlocked[lab[i]] === 1))
          count.blocked++;
      }
    }
  }
}

/**
 * Paints a tube from a to b (local mm) with radius going linearly from ra to rb, as
 * spheres spaced a fraction of the smallest voxel size apart.
 */
export function paintTube(
  lab: Uint8Array,
  shape: readonly [number, number, number],
  spacing: readonly [number, number, number],
  a: readonly [number, number, number],
  b: readonly [number, number, number],
  ra: number,
  rb: number,
  code: number,
  allow: Uint8Array | null,
): void {
  const len = Math.hypot(b[0] - a[0], b[1] - a[1], b[2] - a[2]);
  const step = Math.max(0.25, 0.5 * Math.min(spacing[0], spacing[1], spacing[2], ra, rb));
  const n = Math.max(1, Math.ceil(len / step));
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    paintSphere(
      lab,
      shape,
      spacing,
      a[0] + t * (b[0] - a[0]),
      a[1] + t * (b[1] - a[1]),
      a[2] + t * (b[2] - a[2]),
      ra + t * (rb - ra),
      code,
      allow,
    );
  }
}
