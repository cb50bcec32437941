import * as fs from "node:fs/promises";
import * as path from "node:path";
import { StoreError } from "../errors.js";
import { atomicWriteFile, readJsonFile, removeTree, token } from "../fs-util.js";
import { canonicalJson } from "../schema.js";
import { encoderDir, featuresDir } from "./feature-paths.js";

/** Attributes of the group `patients/<id>/features/<encoderId>`. */
export interface EncoderGroupAttrs {
  encoderId: string;
  /** The keys of `meta` with the same value in every symmetry written to this set. */
  meta: Record<string, unknown>;
}

function groupJson(attributes: object): string {
  return JSON.stringify({ zarr_format: 3, node_type: "group", attributes }, null, 2);
}

/**
 * Makes the group `dir` (with its `zarr.json`) unless it exists: built complete in a
 * temporary sibling `.<name>~<token>.tmp` and renamed into place, so a crash leaves either no
 * group or a whole one (and a temporary folder `recover()` deletes). The temporary folder is
 * made without `recursive`, so a patient removed meanwhile is not brought back as a skeleton.
 */
async function ensureGroup(dir: string, attributes: object, id: string): Promise<void> {
  const file = path.join(dir, "zarr.json");
  if ((await readJsonFile(file).catch(() => "unparsable")) !== undefined) return;
  if (await fs.stat(dir).catch(() => undefined)) {
    // A folder without its metadata (made by hand or an older tool): complete it.
    await atomicWriteFile(file, groupJson(attributes));
    return;
  }
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}~${token()}.tmp`);
  try {
    await fs.mkdir(tmp);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new StoreError("PATIENT_NOT_FOUND", `patient ${id} was removed during the write`, {
        patientId: id,
      });
    }
    throw err;
  }
  try {
    await fs.writeFile(path.join(tmp, "zarr.json"), groupJson(attributes));
    await fs.rename(tmp, dir);
  } catch (err) {
    await removeTree(tmp);
    const code = (err as NodeJS.ErrnoException).code;
    // Another writer made it first: theirs stands.
    if (code !== "ENOTEMPTY" && code !== "EEXIST") throw err;
  }
}

/** Makes `patients/<id>/features` and `.../<encoderId>` (with `meta`) where missing. */
export async function ensureEncoderGroup(
  root: string,
  id: string,
  encoderId: string,
  meta: Record<string, unknown>,
): Promise<void> {
  await ensureGroup(featuresDir(root, id), {}, id);
  const attrs: EncoderGroupAttrs = { encoderId, meta };
  await ensureGroup(encoderDir(root, id, encoderId), attrs, id);
}

/** The group's attributes; `undefined` when its `zarr.json` is missing. Throws when unparsable. */
export async function readEncoderGroup(
  root: string,
  id: string,
  encoderId: string,
): Promise<EncoderGroupAttrs | undefined> {
  const file = path.join(encoderDir(root, id, encoderId), "zarr.json");
  let meta: unknown;
  try {
    meta = await readJsonFile(file);
  } catch (err) {
    throw new StoreError(
      "FEATURES_CORRUPT",
      `encoder group ${encoderId} of patient ${id}: unparsable ${file}`,
      { patientId: id, encoderId, file },
      { cause: err },
    );
  }
  if (meta === undefined) return undefined;
  const m = meta as { zarr_format?: unknown; node_type?: unknown; attributes?: EncoderGroupAttrs };
  const a = m.attributes;
  if (
    m.zarr_format !== 3 ||
    m.node_type !== "group" ||
    a?.encoderId !== encoderId ||
    !a.meta ||
    typeof a.meta !== "object"
  ) {
    throw new StoreError(
      "FEATURES_CORRUPT",
      `encoder group ${encoderId} of patient ${id}: not a group with attributes {encoderId: "${encoderId}", meta} (${file})`,
      { patientId: id, encoderId, file },
    );
  }
  return a;
}

/**
 * Narrows the group's `meta` to the keys whose value equals the one in `meta` (one more
 * symmetry written), rewriting the group metadata atomically when anything was dropped.
 */
export async function narrowGroupMeta(
  root: string,
  id: string,
  encoderId: string,
  meta: Record<string, unknown>,
): Promise<void> {
  const cur = await readEncoderGroup(root, id, encoderId);
  if (!cur) return;
  const common = Object.fromEntries(
    Object.entries(cur.meta).filter(([key, v]) => canonicalJson(v) === canonicalJson(meta[key])),
  );
  if (Object.keys(common).length === Object.keys(cur.meta).length) return;
  await atomicWriteFile(
    path.join(encoderDir(root, id, encoderId), "zarr.json"),
    groupJson({ encoderId, meta: common }),
  );
}
