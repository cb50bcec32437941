/** Shape of a feature array: `[z, y, x, c]` (c = encoder channels, fastest). */
export type FeatureShape = [number, number, number, number];

/** Attributes of a stored feature array `patients/<id>/features/<encoderId>/s<k>`. */
export interface FeatureAttrs {
  encoderId: string;
  /** Cube symmetry index `k` (0..47, `@lungflow/volume`'s `SYMMETRIES[k]`) the input was put in. */
  symmetry: number;
  shape: FeatureShape;
  /** The patient's `sourceHash` when the features were written (verify compares it). */
  patientSourceHash: string;
  /** The patient's `ingestedAt` when the features were written. */
  patientIngestedAt: string;
  /** ISO time of the write. */
  writtenAt: string;
  /** What the caller passed: encoder config, stride, receptive field, ... */
  meta: Record<string, unknown>;
}

/** A feature array read back: C-order `[z, y, x, c]` float32. */
export interface FeatureArray {
  data: Float32Array;
  shape: FeatureShape;
  attrs: FeatureAttrs;
}

/** What a feature array's `zarr.json` must say; its chunk shape when it does. */
export type CheckedFeatureMeta = { attrs: FeatureAttrs; chunk: FeatureShape };

function isShape4(v: unknown): v is FeatureShape {
  return (
    Array.isArray(v) && v.length === 4 && v.every((n) => Number.isInteger(n) && (n as number) > 0)
  );
}

/**
 * Checks the `zarr.json` of `s<k>` of `encoderId`; returns its attributes and chunk shape, or
 * the reason it is not a feature array this store wrote.
 */
export function checkFeatureArrayMeta(
  meta: unknown,
  encoderId: string,
  k: number,
): CheckedFeatureMeta | string {
  if (!meta || typeof meta !== "object") return "zarr.json is missing";
  const m = meta as Record<string, unknown>;
  if (m.zarr_format !== 3 || m.node_type !== "array") return "not a Zarr v3 array";
  if (m.data_type !== "float32") return `data_type ${String(m.data_type)}, expected float32`;
  const shape = m.shape;
  if (!isShape4(shape)) return `shape ${JSON.stringify(shape)} is not 4 positive integers`;
  const chunk = (m.chunk_grid as { configuration?: { chunk_shape?: unknown } } | undefined)
    ?.configuration?.chunk_shape;
  if (!isShape4(chunk) || chunk[3] !== shape[3])
    return `chunk_grid ${JSON.stringify(chunk)} is not [cz,cy,cx,${shape[3]}]`;
  const codecs = m.codecs as { name: string }[] | undefined;
  if (!Array.isArray(codecs) || !codecs.some((c) => c.name === "bytes"))
    return "codecs lack a bytes codec";
  const dn = m.dimension_names;
  if (!Array.isArray(dn) || dn.join(",") !== "z,y,x,c")
    return `dimension_names ${JSON.stringify(dn)}, expected ["z","y","x","c"]`;
  const a = m.attributes as Partial<FeatureAttrs> | undefined;
  if (!a || typeof a !== "object") return "attributes missing";
  if (a.encoderId !== encoderId)
    return `attribute encoderId ${JSON.stringify(a.encoderId)}, expected "${encoderId}"`;
  if (a.symmetry !== k) return `attribute symmetry ${JSON.stringify(a.symmetry)}, expected ${k}`;
  if (!isShape4(a.shape) || a.shape.some((n, i) => n !== shape[i]))
    return `attribute shape ${JSON.stringify(a.shape)} differs from the array shape ${shape.join("x")}`;
  if (typeof a.patientSourceHash !== "string" || typeof a.patientIngestedAt !== "string")
    return "attributes patientSourceHash / patientIngestedAt missing";
  if (!a.meta || typeof a.meta !== "object" || Array.isArray(a.meta))
    return "attribute meta is not an object";
  return { attrs: a as FeatureAttrs, chunk };
}
