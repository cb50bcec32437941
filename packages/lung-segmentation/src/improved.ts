import type { Volume } from "@lungflow/volume";
import { closeSlices } from "./close-slices.js";
import type { RunLabels } from "./label-runs.js";
import { limitComponents } from "./limit-components.js";
import { recoverBoundary } from "./recover-boundary.js";
import { removeAirways } from "./remove-airways.js";
import type { ResolvedOptions } from "./segment-options.js";

/**
 * Picks the lung component(s) among the 26-connected components of the dilated candidates.
 * kdsb17: the largest (ties: the first in raster order, as `np.argmax(np.bincount(labels))`).
 * With `borderComponents`, components touching a side face of the volume, or prisms that
 * run through it (on both the first and last slice with at least half their largest
 * cross-section there: air inside a hollow table, air along the table) are not eligible.
 * With `limitComponents`, every eligible component of at least `minComponentFraction` of
 * the largest that does not lie wholly below it is kept too (lungs not joined by airways).
 * Returns `keep[label]` = 1 for the chosen ones, or undefined if none is eligible.
 */
export function chooseComponent(rl: RunLabels, o: ResolvedOptions): Uint8Array | undefined {
  const [nz, ny, nx] = rl.shape;
  const c = rl.count;
  const banned = new Uint8Array(c + 1);
  const lo = new Float64Array(c + 1).fill(Number.POSITIVE_INFINITY);
  const hi = new Float64Array(c + 1).fill(Number.NEGATIVE_INFINITY);
  if (o.borderComponents || o.limitComponents) {
    const first = new Float64Array(c + 1);
    const last = new Float64Array(c + 1);
    const maxArea = new Float64Array(c + 1);
    const area = new Float64Array(c + 1);
    const touched: number[] = [];
    for (let z = 0; z < nz; z++) {
      for (let i = rl.rowStart[z * ny]; i < rl.rowStart[(z + 1) * ny]; i++) {
        const l = rl.label[i];
        const y = rl.row[i] - z * ny;
        if (y === 0 || y === ny - 1 || rl.start[i] === 0 || rl.end[i] === nx) banned[l] = 1;
        if (area[l] === 0) touched.push(l);
        area[l] += rl.end[i] - rl.start[i];
        if (z < lo[l]) lo[l] = z;
        hi[l] = z;
      }
      for (const l of touched) {
        if (area[l] > maxArea[l]) maxArea[l] = area[l];
        if (z === 0) first[l] = area[l];
        if (z === nz - 1) last[l] = area[l];
        area[l] = 0;
      }
      touched.length = 0;
    }
    if (!o.borderComponents) banned.fill(0);
    else
      for (let l = 1; l <= c; l++)
        if (!banned[l] && Math.min(first[l], last[l]) >= 0.5 * maxArea[l]) banned[l] = 2;
  }
  let best = 0;
  for (let l = 1; l <= c; l++) {
    if (!banned[l] && (best === 0 || rl.sizes[l] > rl.sizes[best])) best = l;
  }
  // Nothing but prisms: lungs cut by the scan range look like one; take it, and the border
  // check reports LUNG_TOUCHES_BORDER.
  if (best === 0)
    for (let l = 1; l <= c; l++)
      if (banned[l] === 2 && (best === 0 || rl.sizes[l] > rl.sizes[best])) best = l;
  if (best === 0) return undefined;
  const keep = new Uint8Array(c + 1);
  keep[best] = 1;
  if (o.limitComponents) {
    for (let l = 1; l <= c; l++) {
      if (banned[l] || rl.sizes[l] < o.minComponentFraction * rl.sizes[best]) continue;
      if (!(o.up ? hi[l] < lo[best] : lo[l] > hi[best])) keep[l] = 1;
    }
  }
  return keep;
}

/**
 * The improved-mode fixes on the tight mask, in place: airway removal, then component
 * limits (the airways removed, the lungs and any bowel gas fall apart), then the closing.
 * `fixes[name]` gets the voxels each removed (negative: added).
 */
export function applyFixes(
  hu: Volume<Int16Array>,
  mask: Uint8Array,
  threshold: number,
  o: ResolvedOptions,
  fixes: Record<string, number>,
  timingsMs: Record<string, number>,
): void {
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timingsMs[name] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  let airway: Int32Array | undefined;
  if (o.removeAirways) {
    const r = removeAirways(hu, mask, o.airwayHu);
    airway = r.region;
    fixes.removeAirways = r.removed;
    lap("removeAirways");
  }
  if (o.limitComponents) {
    fixes.limitComponents = limitComponents(mask, hu, o.minComponentFraction);
    lap("limitComponents");
  }
  if (o.closeNodules) {
    // Give back what the opening shaved off the pleura, then close and fill.
    fixes.recoverBoundary = -recoverBoundary(hu, mask, threshold);
    lap("recoverBoundary");
    let forbidden: Uint8Array | undefined;
    if (airway) {
      forbidden = new Uint8Array(mask.length);
      for (const i of airway) forbidden[i] = 1;
    }
    const pocket = [o.maxNoduleMm / hu.spacing[1], o.maxNoduleMm / hu.spacing[2]] as const;
    fixes.closeNodules = -closeSlices(mask, hu.shape, o.closingRadius, pocket, forbidden);
    // The closing must not give the airway back where it ran inside the lung.
    if (airway) {
      for (const i of airway) {
        if (mask[i]) {
          mask[i] = 0;
          fixes.closeNodules++;
        }
      }
    }
    lap("closeNodules");
  }
}
