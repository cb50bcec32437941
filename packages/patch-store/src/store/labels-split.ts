import * as path from "node:path";
import { atomicWriteFile, readJsonFile } from "../fs-util.js";
import { parseLabelsCsv } from "../labels.js";
import type { Label, Split } from "../schema.js";
import { stratifiedSplit } from "../split.js";
import { withWriteErrors } from "../write-failure.js";
import { listPatients } from "./patients.js";
import { ROOT_META, updateRootAttrs } from "./root-attrs.js";
import type { StoreState } from "./state.js";

/** Result of `PatchStore.importLabels`. */
export interface ImportLabelsResult {
  /** Labels in the file. */
  count: number;
  /** Patients whose label was new or different. */
  changed: number;
  /** Ids in the file that are not in the store (only with `unknown: "ignore"`). */
  ignored: string[];
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** See `PatchStore.syncLabelMirrors`. */
export async function syncLabelMirrors(s: StoreState): Promise<number> {
  let n = 0;
  for (const id of await listPatients(s.root)) {
    const file = path.join(s.root, "patients", id, ROOT_META);
    const meta = (await readJsonFile(file).catch(() => undefined)) as
      | { attributes?: Record<string, unknown> }
      | undefined;
    if (!meta?.attributes) continue;
    const want = s.rootAttrs.labels[id];
    if (meta.attributes.label === want) continue;
    if (want === undefined) delete meta.attributes.label;
    else meta.attributes.label = want;
    const step = { store: s.root, writing: `the label of patient ${id}`, path: file };
    await withWriteErrors(step, () => atomicWriteFile(file, JSON.stringify(meta, null, 2)));
    n++;
  }
  return n;
}

/** See `PatchStore.importLabels` (the caller holds the store lock). */
export async function importLabels(
  s: StoreState,
  csvText: string,
  opts: { file?: string; unknown?: "error" | "ignore"; replace?: boolean },
): Promise<ImportLabelsResult> {
  const ids = new Set(await listPatients(s.root));
  const parsed = parseLabelsCsv(
    csvText,
    opts.file ?? "<labels>",
    opts.unknown === "ignore" ? undefined : ids,
  );
  const ignored = [...parsed.keys()].filter((id) => !ids.has(id)).sort();
  let changed = 0;
  await updateRootAttrs(s, (a) => {
    const labels: Record<string, Label> = opts.replace ? {} : { ...a.labels };
    for (const [id, l] of parsed) {
      if (!ids.has(id)) continue;
      if (labels[id] !== l) changed++;
      labels[id] = l;
    }
    return { ...a, labels: sortKeys(labels) };
  });
  await syncLabelMirrors(s);
  return { count: parsed.size, changed, ignored };
}

/** See `PatchStore.makeSplit` (the caller holds the store lock). */
export async function makeSplit(
  s: StoreState,
  opts: { seed: number; validationFraction?: number },
): Promise<Split> {
  const ids = await listPatients(s.root);
  const made = stratifiedSplit(ids, s.rootAttrs.labels, {
    seed: opts.seed,
    validationFraction: opts.validationFraction ?? 0.2,
  });
  const split: Split = { ...made, createdAt: new Date().toISOString() };
  await updateRootAttrs(s, (a) => ({ ...a, split }));
  return split;
}
