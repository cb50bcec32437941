import * as fs from "node:fs/promises";
import * as path from "node:path";
import { StoreError } from "./errors.js";
import { atomicWriteFile, listDir, mkdirp } from "./fs-util.js";
import type { RootAttrs } from "./schema.js";
import { toWriteError } from "./write-failure.js";

/** A Zarr v3 group's `zarr.json`. */
export function groupJson(attributes: Record<string, unknown>): string {
  return JSON.stringify({ zarr_format: 3, node_type: "group", attributes }, null, 2);
}

/**
 * A `patients/` folder left by a creation that stopped before the root `zarr.json` (a kill,
 * or a crash while removing a failed one): empty but for its own `zarr.json` and temporary
 * files. Such a folder is ours to finish.
 */
async function isUnfinishedPatients(dir: string): Promise<boolean> {
  return (await listDir(dir)).every((e) => e.name === "zarr.json" || e.name.startsWith("."));
}

/** `dir` and those of its ancestors that do not exist yet, deepest first. */
async function missingDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) {
    try {
      await fs.stat(d);
      break;
    } catch {
      out.push(d);
    }
  }
  return out;
}

/**
 * Creates the store's layout at `abs` (absolute): `patients/zarr.json`, then the root
 * `zarr.json` (hard-linked in complete, so two creators race benignly). A folder holding
 * other things is refused (`STORE_INVALID`); one holding only what an unfinished creation
 * left is finished. A write that fails (full disk, read-only filesystem, no permission)
 * removes what this call made, so no half-created store stays behind to be refused later,
 * and throws `DISK_FULL` / `READ_ONLY_FS` / `PERMISSION_DENIED` / `WRITE_FAILED`.
 */
export async function createStore(abs: string, attrs: RootAttrs): Promise<void> {
  const file = path.join(abs, "zarr.json");
  const present: string[] = [];
  for (const e of await listDir(abs)) {
    if (e.name.startsWith(".")) continue;
    const p = path.join(abs, e.name);
    if (e.name === "patients" && e.isDirectory() && (await isUnfinishedPatients(p))) continue;
    present.push(e.name);
  }
  if (present.length > 0) {
    const shown = present.slice(0, 3).join(", ");
    throw new StoreError(
      "STORE_INVALID",
      `${abs} exists and is not a patch store (no zarr.json; it holds ${shown}${present.length > 3 ? ", ..." : ""}); refusing to write into it`,
      { store: abs },
    );
  }
  const made = await missingDirs(abs);
  const patients = path.join(abs, "patients");
  const tmp = path.join(abs, `.zarr.json.${process.pid}.create.tmp`);
  try {
    await mkdirp(patients);
    await atomicWriteFile(path.join(patients, "zarr.json"), groupJson({}));
    await fs.writeFile(tmp, groupJson({ lungflow: attrs }));
    await fs.link(tmp, file).catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    });
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    await undoCreate(abs, made);
    throw await toWriteError(err, { store: abs, writing: "a new store", path: abs });
  }
  await fs.rm(tmp, { force: true }).catch(() => undefined);
}

/** Removes what a failed creation made, unless another creator finished the store. */
async function undoCreate(abs: string, made: string[]): Promise<void> {
  if (
    await fs.stat(path.join(abs, "zarr.json")).then(
      () => true,
      () => false,
    )
  )
    return;
  const patients = path.join(abs, "patients");
  await fs.rm(path.join(patients, "zarr.json"), { force: true }).catch(() => undefined);
  // rmdir, never a recursive delete: only empty folders go, whatever else is there stays.
  for (const d of [patients, ...made]) await fs.rmdir(d).catch(() => undefined);
}
