/** A display window: HU `level - width/2` is black, `level + width/2` white. */
export interface HuWindow {
  width: number;
  level: number;
}

/** Window presets: lung parenchyma, soft tissue of the mediastinum, bone. */
export const WINDOWS: Record<string, HuWindow> = {
  lung: { width: 1500, level: -600 },
  mediastinum: { width: 350, level: 40 },
  bone: { width: 2000, level: 300 },
};

/** Colour of the lung mask overlay (the OME label colour). */
export const MASK_RGB = [255, 80, 80] as const;

/** What {@link renderSlice} draws: a slice and its overlays, all row-major `rows x cols`. */
export interface SliceLayers {
  rows: number;
  cols: number;
  hu: Int16Array;
  mask?: Uint8Array;
  maskOpacity: number;
  /** Feature magnitude on its own (coarser) grid, scaled to the slice nearest-neighbour. */
  feature?: { data: Float32Array; rows: number; cols: number; max: number };
  featureOpacity: number;
  window: HuWindow;
  /** Draw row 0 at the bottom (superior up for z rows). */
  flipRows: boolean;
}

/** Maps a magnitude in 0..1 to a dark-blue -> yellow heat colour. */
function heat(t: number): [number, number, number] {
  return [
    Math.round(255 * Math.min(1, 2 * t)),
    Math.round(255 * t),
    Math.round(255 * (1 - t) * 0.6),
  ];
}

/** The RGBA pixels of one slice: windowed grey, mask blended in red, features as heat. */
export function renderSlice(l: SliceLayers): Uint8ClampedArray<ArrayBuffer> {
  const { rows, cols, hu, mask, feature, window: w } = l;
  const out = new Uint8ClampedArray(new ArrayBuffer(rows * cols * 4));
  const lo = w.level - w.width / 2;
  const scale = 255 / w.width;
  for (let r = 0; r < rows; r++) {
    const dr = l.flipRows ? rows - 1 - r : r;
    const fr = feature ? Math.min(feature.rows - 1, Math.floor((r * feature.rows) / rows)) : 0;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      const g = Math.max(0, Math.min(255, (hu[i] - lo) * scale));
      let red = g;
      let green = g;
      let blue = g;
      if (feature && l.featureOpacity > 0) {
        const fc = Math.min(feature.cols - 1, Math.floor((c * feature.cols) / cols));
        const t = feature.max > 0 ? feature.data[fr * feature.cols + fc] / feature.max : 0;
        const [hr, hg, hb] = heat(t);
        const a = l.featureOpacity * t;
        red = red * (1 - a) + hr * a;
        green = green * (1 - a) + hg * a;
        blue = blue * (1 - a) + hb * a;
      }
      if (mask?.[i] && l.maskOpacity > 0) {
        const a = l.maskOpacity;
        red = red * (1 - a) + MASK_RGB[0] * a;
        green = green * (1 - a) + MASK_RGB[1] * a;
        blue = blue * (1 - a) + MASK_RGB[2] * a;
      }
      const o = (dr * cols + c) * 4;
      out[o] = red;
      out[o + 1] = green;
      out[o + 2] = blue;
      out[o + 3] = 255;
    }
  }
  return out;
}
