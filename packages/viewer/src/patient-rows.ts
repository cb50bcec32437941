import type { PatchStore } from "@lungflow/patch-store";
import type { Vec3 } from "@lungflow/volume";

/** One line of the viewer's patient list. */
export interface PatientRow {
  id: string;
  /** 1 = cancer within a year; absent when unknown. */
  label?: 0 | 1;
  /** The store split the patient is in (`train`, `validation`, `test`), when split. */
  split?: "train" | "validation" | "test";
  /** Probability from the `--predictions` CSV, when it lists the patient. */
  prediction?: number;
  /** Lung volume in mL as the ingest measured it, when recorded. */
  lungVolumeMl?: number;
  /** Ingest warning codes. */
  warnings: string[];
  /** Stored array shape `[Z, Y, X]`. */
  shape?: Vec3;
  /** Encoder ids with stored features. */
  encoders: string[];
  /** Why the patient cannot be shown (its metadata unreadable), instead of the fields above. */
  problem?: string;
}

function splitOf(store: PatchStore, id: string): PatientRow["split"] {
  const s = store.rootAttrs.split;
  if (!s) return undefined;
  if (s.train.includes(id)) return "train";
  if (s.validation.includes(id)) return "validation";
  if (s.test.includes(id)) return "test";
  return undefined;
}

/**
 * The list of patients the page shows. A patient whose metadata cannot be read is listed
 * with its `problem` (never dropped): the list is where a user looks for what is wrong.
 */
export async function patientRows(
  store: PatchStore,
  predictions: ReadonlyMap<string, number> = new Map(),
): Promise<PatientRow[]> {
  const rows: PatientRow[] = [];
  for (const id of await store.listPatients()) {
    try {
      const a = await store.getPatient(id);
      if (!a) continue;
      const extra = a.extra ?? {};
      const warnings = Array.isArray(extra.warnings) ? extra.warnings.map(String) : [];
      const lung = extra.lungVolumeMl;
      const encoders = (await store.listFeatures(id)).map((f) => f.encoderId);
      rows.push({
        id,
        ...(a.label !== undefined ? { label: a.label } : {}),
        ...(splitOf(store, id) ? { split: splitOf(store, id) } : {}),
        ...(predictions.has(id) ? { prediction: predictions.get(id) } : {}),
        ...(typeof lung === "number" ? { lungVolumeMl: lung } : {}),
        warnings,
        shape: a.shape,
        encoders,
      });
    } catch (err) {
      rows.push({ id, warnings: [], encoders: [], problem: (err as Error).message });
    }
  }
  return rows;
}
