import { openStore } from "@lungflow/patch-store";
import { PatchStreamError } from "./errors.js";
import type { PatchSource, PatientInfo } from "./source.js";

/** Which patients to stream: explicit ids, or a split stored in the store's root attributes. */
export interface PatientSelection {
  /** Patient ids (default: every patient, or the split's). */
  ids?: readonly string[];
  /** `"train"`, `"validation"` or `"test"`: the store's seeded split (`lungflow store split`). */
  split?: "train" | "validation" | "test";
}

/** Lists the selected patients with their shapes and labels, in a stable (sorted) order. */
export async function resolvePatients(
  source: PatchSource,
  sel: PatientSelection = {},
): Promise<PatientInfo[]> {
  let all: PatientInfo[];
  let splitIds: string[] | undefined;
  if (typeof source === "string") {
    const store = await openStore(source);
    all = (await store.patients()).map((p) => ({ id: p.id, shape: p.shape, label: p.label }));
    if (sel.split) {
      const split = store.split;
      if (!split) {
        throw new PatchStreamError(
          "NO_PATIENTS",
          `store ${source} has no split: run \`lungflow store split\` first`,
          {
            store: source,
            split: sel.split,
          },
        );
      }
      splitIds = split[sel.split];
    }
  } else {
    all = source.patients.map((p) => ({ id: p.id, shape: p.shape, label: p.label }));
    if (sel.split) {
      throw new PatchStreamError(
        "BAD_OPTION",
        "splits come from a store; pass ids for an in-memory source",
        {},
      );
    }
  }
  const byId = new Map(all.map((p) => [p.id, p]));
  const want = sel.ids ?? splitIds ?? all.map((p) => p.id);
  const out: PatientInfo[] = [];
  for (const id of want) {
    const p = byId.get(id);
    if (!p) {
      throw new PatchStreamError(
        "UNKNOWN_PATIENT",
        `patient ${id} is not in ${typeof source === "string" ? source : "the source"}`,
        {
          patientId: id,
          store: typeof source === "string" ? source : undefined,
        },
      );
    }
    out.push(p);
  }
  if (out.length === 0) {
    throw new PatchStreamError("NO_PATIENTS", "no patient selected", {
      split: sel.split,
      store: typeof source === "string" ? source : undefined,
    });
  }
  return [...new Set(out)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
