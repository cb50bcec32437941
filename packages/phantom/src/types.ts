/**
 * What the geometry defaults and the body size follow:
 * - `"mini"` (the library default): 48 x 96 x 96 at 0.7 / 1.25 mm, a whole chest shrunk
 *   to fit whatever field of view (matrix x pixelSpacing) it gets, lungs filling the scan
 *   but for a margin of 8% at each end. Small and fast, for tests; too small (67 mm) for
 *   kdsb17's 1 mm lung mask.
 * - `"realistic"`: an adult chest as a clinical CT scans it, drawn per patient from the
 *   seed: field of view 340-400 mm over a 512 matrix, slice spacing 1-2.5 mm, lungs
 *   200-280 mm high with the neck and upper abdomen above and below them, body size and
 *   position varying (see `REALISTIC_PRESET`).
 *
 * Explicit `slices`, `matrix`, `pixelSpacing` and `sliceSpacing` override either preset.
 */
export type PhantomPreset = "mini" | "realistic";

/** Options of {@link makePhantom}. Lengths in millimetres, intensities in Hounsfield units. */
export interface PhantomOptions {
  /** Seed of every random choice: same seed and options, same phantom (bit for bit). */
  seed: number;
  /** Geometry defaults and body size (default `"mini"`); see {@link PhantomPreset}. */
  preset?: PhantomPreset;
  /** Number of axial slices (mini: 48; realistic: enough to cover the lungs and margins). */
  slices?: number;
  /** Rows = columns of each slice (mini: 96; realistic: 512; any in 48-1024). */
  matrix?: number;
  /**
   * In-plane pixel spacing in mm (mini: 0.7; realistic: the drawn field of view / matrix).
   * CT uses 0.5-0.9 at 512; 0.3-10 is accepted (a 128 matrix over 400 mm is 3.1 mm). In
   * the mini preset the body scales with matrix * pixelSpacing.
   */
  pixelSpacing?: number;
  /** Distance between slice centres in mm, CT 0.625-2.5 (mini: 1.25; realistic: drawn in 1-2.5). */
  sliceSpacing?: number;
  /** LPS position (mm) of the centre of voxel (0,0,0). Default: FOV centred in-plane, non-zero z. */
  origin?: [number, number, number];
  /**
   * Nodules: a count (placed at random, 1/3 of them juxtapleural, sizes drawn so that
   * `cancer` holds when it is given, else 3-30 mm) or an explicit list. Default 0.
   */
  nodules?: number | NoduleSpec[];
  /**
   * With a nodule count: draw sizes so that the label is 1 (one nodule >= 10 mm, at least one
   * nodule) or 0 (all nodules < 10 mm). Ignored with an explicit nodule list.
   */
  cancer?: boolean;
  /**
   * With `cancer` given: the drawn sizes keep a margin around the 10 mm rule, i.e. a cancer
   * patient's largest nodule is at least `cancerMinMm` (default 10, must be >= 10) and every
   * other nodule at most `benignMaxMm` (default 9.5, must be < 10). A wider margin makes the
   * label easier to learn (the demo uses 14 / 6); the label rule itself does not change.
   */
  cancerMinMm?: number;
  benignMaxMm?: number;
  /** Air pockets in the abdomen below the lungs (default false). */
  bowelGas?: boolean;
  /** Scanner table under the body, separated from it by air (default true). */
  table?: boolean;
  /** Pulmonary vessel trees (default true). Vessel voxels count as lung in `lungMask`. */
  vessels?: boolean;
  /** Standard deviation of the Gaussian noise in HU (default 20). */
  noiseHu?: number;
  /** HU values are multiples of this (1 or 2; use 2 for RescaleSlope 2). Default 1. */
  huStep?: 1 | 2;
  /** Patient id (default: 32 hex characters derived from the seed, like Kaggle ids). */
  patientId?: string;
}

/** An explicit nodule. `center` omitted: placed at random inside a lung. */
export interface NoduleSpec {
  /** LPS centre in mm. */
  center?: [number, number, number];
  /** Diameter in mm (3-30 for realistic nodules). */
  diameterMm: number;
  /** Mean attenuation in HU (default drawn in 0-60). */
  hu?: number;
  /** When placed at random: put it against the chest wall (default false). */
  juxtapleural?: boolean;
}

/** A nodule as painted. */
export interface Nodule {
  /** LPS centre in mm. */
  center: [number, number, number];
  diameterMm: number;
  /** Mean HU (noise added per voxel). */
  hu: number;
  /** True when the sphere reaches outside the lung (touches the pleura / chest wall). */
  juxtapleural: boolean;
  /** Number of voxels painted (the sphere clipped to the lungs). */
  voxels: number;
}

/** A generated phantom with its ground truth. Arrays are C-order [z, y, x]. */
export interface Phantom {
  /** HU volume, clamped to [-1024, 3071]. */
  hu: Int16Array;
  /** [slices, rows, columns]. */
  shape: [number, number, number];
  /** [dz, dy, dx] mm. */
  spacing: [number, number, number];
  /** LPS mm of voxel (0,0,0); x grows to the patient's left, y posterior, z superior. */
  origin: [number, number, number];
  /** 1 = lung parenchyma including vessels; nodules and airways are not lung. */
  lungMask: Uint8Array;
  /** 1 = trachea and main bronchi (air). */
  airwayMask: Uint8Array;
  nodules: Nodule[];
  /** 1 iff at least one nodule has diameter >= 10 mm ({@link CANCER_DIAMETER_MM}). */
  label: 0 | 1;
  patientId: string;
  seed: number;
  /**
   * Radius in pixels of the circular field of view centred on the slice centre
   * ((columns-1)/2, (rows-1)/2): pixels farther out are exactly -1000 HU (no noise)
   * and are the ones a writer may mark with PixelPaddingValue.
   */
  fovRadiusPx: number;
}

/** The label rule: cancer = 1 iff a nodule of at least this diameter (mm) is present. */
export const CANCER_DIAMETER_MM = 10;
