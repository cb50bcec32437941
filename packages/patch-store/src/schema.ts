import type { Vec3 } from "@lungflow/volume";

/** Version of the store layout written in the root attributes; bumped on breaking changes. */
export const SCHEMA_VERSION = 1;

/**
 * The preprocessing that produced every patient of a store (kdsb17's method). A store
 * refuses patients made with other values: volumes preprocessed differently must not be
 * mixed in one training set. Any JSON-serialisable fields may be added by the pipeline;
 * equality is on the canonical JSON.
 */
export interface PreprocessingParams {
  /** Target voxel spacing `[dz, dy, dx]` mm (kdsb17: [1, 1, 1]). */
  spacing: Vec3;
  /** Resampling interpolation (kdsb17: "trilinear"). */
  interpolation: string;
  /** Lung threshold method (kdsb17: "otsu"). */
  thresholdMethod: string;
  /** Mask mode of lung-segmentation ("kdsb17" or "improved"). */
  maskMode: string;
  /** Morphology kernels and iteration counts, as lung-segmentation reports them. */
  kernels: Record<string, unknown>;
  /** z-tail slices holding less than this fraction of the lung volume are dropped (0.005). */
  tailFraction: number;
  [extra: string]: unknown;
}

/** A Kaggle-style label: 1 = cancer diagnosed within a year. */
export type Label = 0 | 1;

/** A seeded stratified partition of the store's patients (root attribute `lungflow.split`). */
export interface Split {
  seed: number;
  validationFraction: number;
  train: string[];
  validation: string[];
  /** Unlabelled patients. */
  test: string[];
  createdAt: string;
}

/** Root attribute `lungflow`. */
export interface RootAttrs {
  schema: number;
  params: PreprocessingParams;
  createdAt: string;
  /** Authoritative labels, patient id -> 0/1 (mirrored into each patient's `label`). */
  labels: Record<string, Label>;
  split?: Split;
}

/** What the writer of a patient supplies (the store adds spacing, origin, time, label, OME). */
export interface PatientSource {
  /** `[[z0,z1],[y0,y1],[x0,x1]]` in 1 mm voxel indices of the resampled volume, end exclusive. */
  bbox: [[number, number], [number, number], [number, number]];
  /** Spacing of the source series `[dz, dy, dx]` mm. */
  sourceSpacing: Vec3;
  /** Shape of the source series `[slices, rows, columns]`. */
  sourceShape: Vec3;
  otsuThreshold: number;
  seriesInstanceUid: string;
  fileCount: number;
  /** Hash over the source files' names, sizes and content digests (see pipeline's `sourceHash`). */
  sourceHash: string;
  lungflowVersion: string;
  /** Anything else worth keeping (lung volume, warnings...). */
  extra?: Record<string, unknown>;
}

/** The attributes of `patients/<id>/` as stored (plus the id). */
export interface PatientAttrs extends PatientSource {
  id: string;
  /** Always `[1, 1, 1]` for stores made by the pipeline. */
  spacing: Vec3;
  /** LPS `[X, Y, Z]` mm of voxel (0,0,0) of the stored (cropped) arrays. */
  origin: Vec3;
  /** LPS unit vectors of the z, y, x axes. */
  direction: [Vec3, Vec3, Vec3];
  /** Stored array shape `[Z, Y, X]` (same for hu and mask). */
  shape: Vec3;
  /** From the root labels (the authoritative copy), when known. */
  label?: Label;
  ingestedAt: string;
}

const ID_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** True if `id` can name a patient folder (letters, digits, `._-`, not starting with `.`). */
export function isValidPatientId(id: string): boolean {
  return ID_RE.test(id);
}

/** JSON with object keys sorted, so equal parameter sets compare equal as strings. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The parameter names whose values differ between `a` and `b` (deep, canonical JSON). */
export function paramsDiff(a: PreprocessingParams, b: PreprocessingParams): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => canonicalJson(a[k]) !== canonicalJson(b[k])).sort();
}

/**
 * OME-NGFF 0.5 metadata for a patient group, so napari-ome-zarr and neuroglancer open the
 * `hu` array at its physical size and position (axes z, y, x in millimetres; the
 * translation is the crop origin, valid for axial series).
 */
export function omeMetadata(
  id: string,
  spacing: Vec3,
  origin: Vec3,
  path = "hu",
): Record<string, unknown> {
  return {
    version: "0.5",
    multiscales: [
      {
        name: id,
        axes: [
          { name: "z", type: "space", unit: "millimeter" },
          { name: "y", type: "space", unit: "millimeter" },
          { name: "x", type: "space", unit: "millimeter" },
        ],
        datasets: [
          {
            path,
            coordinateTransformations: [
              { type: "scale", scale: [...spacing] },
              { type: "translation", translation: [origin[2], origin[1], origin[0]] },
            ],
          },
        ],
      },
    ],
  };
}

/** Name of the lung mask in the patient's OME-NGFF `labels` group. */
export const OME_LABEL_NAME = "mask";

/**
 * OME-NGFF 0.5 metadata of the lung mask as a label image: `labels/` lists it and
 * `labels/mask/` is a one-level multiscale image (dataset `0`, the same grid as `hu`)
 * whose `image-label` says value 1 is lung and points back at the image (`../../`).
 * Viewers (napari-ome-zarr, neuroglancer, vizarr) then draw it as a label layer.
 */
export function omeLabelsMetadata(
  spacing: Vec3,
  origin: Vec3,
): { labels: Record<string, unknown>; label: Record<string, unknown> } {
  return {
    labels: { version: "0.5", labels: [OME_LABEL_NAME] },
    label: {
      ...omeMetadata(OME_LABEL_NAME, spacing, origin, "0"),
      "image-label": {
        version: "0.5",
        colors: [{ "label-value": 1, rgba: [255, 80, 80, 255] }],
        properties: [{ "label-value": 1, name: "lung" }],
        source: { image: "../../" },
      },
    },
  };
}
