import fs from "node:fs/promises";
import path from "node:path";
import { loadGmcae, writeMosaic } from "@lungflow/gmcae";
import { lungSampler } from "@lungflow/patch-store";
import { tf } from "@lungflow/tf-runtime";
import { PatchStreamError } from "../patches/errors.js";
import { PatchStream } from "../patches/patch-stream.js";

/** Options of {@link reconstructFlow}. */
export interface ReconstructFlowOptions {
  /** A GMCAE run (its best/ is used) or checkpoint folder. */
  model: string;
  store: string;
  /** PNG to write. */
  out: string;
  /** Patients to cut patches from (default: all). */
  ids?: string[];
  /** Patches (rows). */
  n: number;
  /** Seed of the patch locations. */
  seed: number;
  /** Axial slices per patch (default min(D, 8)). */
  slices?: number;
}

/**
 * Lung patches from the store beside their GMCAE reconstructions, as a PNG mosaic (left
 * originals, right reconstructions). Returns what was drawn.
 */
export async function reconstructFlow(
  o: ReconstructFlowOptions,
): Promise<{ patches: number; size: number; patients: string[]; checkpoint: string }> {
  const best = path.join(o.model, "best");
  const dir = await fs.stat(path.join(best, "model.json")).then(
    () => best,
    () => o.model,
  );
  const gmcae = await loadGmcae(dir);
  const d = gmcae.config.patchSize;
  const stream = await PatchStream.open(o.store, {
    ids: o.ids,
    sampler: lungSampler({ size: d }),
    batchSize: o.n,
    patchesPerPatient: Math.max(1, Math.ceil(o.n / (o.ids ? o.ids.length : 1))),
    seed: o.seed,
    augment: false,
    workers: 1,
    log: false,
  });
  try {
    const it = stream.epoch(0);
    const first = await it.next();
    await it.return?.();
    if (first.done)
      throw new PatchStreamError(
        "NO_PATIENTS",
        "the store gave no patches for the chosen patients",
        {
          ids: o.ids,
        },
      );
    const b = first.value;
    const xs = tf.tensor5d(b.data, [b.shape[0], d, d, d, 1]);
    try {
      await writeMosaic(gmcae, xs, o.out, { slices: o.slices });
    } finally {
      xs.dispose();
    }
    return {
      patches: b.shape[0],
      size: d,
      patients: [...new Set(b.locations.map((l) => l.patientId))],
      checkpoint: dir,
    };
  } finally {
    await stream.close();
  }
}
