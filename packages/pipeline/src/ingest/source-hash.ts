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

/** A file already hashed (by the series read, which hashes each file as it reads it). */
export interface KnownDigest {
  /** Path as `path.join(dir, relativePath)`. */
  file: string;
  bytes: number;
  /** SHA-256, hex. */
  sha256: string;
}

/**
 * Hashes a patient folder: the names (relative paths), sizes and content digests of all
 * its files (hidden files skipped). Renaming, adding, removing or editing any file changes
 * it; touching timestamps does not. Used to skip unchanged patients on re-ingest.
 * Files in `known` are not read again: their digest is taken as given.
 */
export async function sourceHash(
  dir: string,
  known: readonly KnownDigest[] = [],
): Promise<SourceDigest> {
  const files: string[] = [];
  await walk(dir, "", files);
  files.sort();
  const byPath = new Map(known.map((k) => [path.join(k.file), k]));
  const all = createHash("sha256");
  let bytes = 0;
  for (const f of files) {
    const k = byPath.get(path.join(dir, f));
    let size: number;
    let d: string;
    if (k) {
      size = k.bytes;
      d = k.sha256;
    } else {
      const data = await fs.readFile(path.join(dir, f));
      size = data.length;
      d = createHash("sha256").update(data).digest("hex");
    }
    bytes += size;
    all.update(`${f}\0${size}\0${d}\n`);
  }
  return { hash: `sha256:${all.digest("hex")}`, files: files.length, bytes };
}
