import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";

/** The source files of one patient folder and their hash. */
export interface SourceDigest {
  /** `sha256:<hex>` over every file's relative path, size and sha256, in path order. */
  hash: string;
  files: number;
  bytes: number;
}

async function walk(dir: string, rel: string, out: string[]): Promise<void> {
  const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) await walk(dir, r, out);
    else if (e.isFile()) out.push(r);
  }
}

/**
 * Hashes a patient folder: the names (relative paths), sizes and content digests of all
 * its files (hidden files skipped). Renaming, adding, removing or editing any file changes
 * it; touching timestamps does not. Used to skip unchanged patients on re-ingest.
 */
export async function sourceHash(dir: string): Promise<SourceDigest> {
  const files: string[] = [];
  await walk(dir, "", files);
  files.sort();
  const all = createHash("sha256");
  let bytes = 0;
  for (const f of files) {
    const data = await fs.readFile(path.join(dir, f));
    bytes += data.length;
    const d = createHash("sha256").update(data).digest("hex");
    all.update(`${f}\0${data.length}\0${d}\n`);
  }
  return { hash: `sha256:${all.digest("hex")}`, files: files.length, bytes };
}
