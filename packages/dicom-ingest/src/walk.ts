import { opendir, stat } from "node:fs/promises";
import path from "node:path";
import { DicomError } from "./errors.js";

export interface WalkOptions {
  signal?: AbortSignal;
  /** Leave out a path: `(path, isDirectory) => boolean`. */
  ignore?: (path: string, isDirectory: boolean) => boolean;
  /** A folder below the root that cannot be listed (reported, the walk goes on). */
  onError?: (path: string, error: unknown) => void;
}

/**
 * Yields every regular file under `root` (recursively, depth first, names sorted within a
 * folder so the order is deterministic), streaming: one folder listing in memory at a time.
 * Hidden files and folders (".name") are skipped, and so is whatever `ignore` returns true
 * for. Symbolic links to files are followed, links to folders are not (no cycles).
 * Throws DicomError READ_FAILED if `root` itself cannot be listed.
 */
export async function* walkFiles(root: string, opts: WalkOptions = {}): AsyncGenerator<string> {
  yield* walk(root, opts, true);
}

async function* walk(dirPath: string, opts: WalkOptions, isRoot: boolean): AsyncGenerator<string> {
  const files: string[] = [];
  const dirs: string[] = [];
  try {
    for await (const e of await opendir(dirPath)) {
      if (e.name.startsWith(".")) continue;
      const p = path.join(dirPath, e.name);
      let isDir = e.isDirectory();
      let isFile = e.isFile();
      if (e.isSymbolicLink()) {
        isFile = (await stat(p).catch(() => undefined))?.isFile() ?? false;
        isDir = false;
      }
      if (!isDir && !isFile) continue;
      if (opts.ignore?.(p, isDir)) continue;
      (isDir ? dirs : files).push(p);
    }
  } catch (e) {
    if (isRoot) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new DicomError(
        "READ_FAILED",
        `cannot list ${dirPath}: ${reason}`,
        { seriesDir: dirPath, reason },
        { cause: e },
      );
    }
    opts.onError?.(dirPath, e);
    return;
  }
  files.sort();
  dirs.sort();
  for (const f of files) {
    opts.signal?.throwIfAborted();
    yield f;
  }
  for (const d of dirs) yield* walk(d, opts, false);
}

/**
 * Maps `fn` over an async iterable with at most `limit` calls in flight, yielding results in
 * input order. Reads ahead only `limit` items, so memory stays bounded for any input size.
 */
export async function* mapLimit<T, R>(
  items: AsyncIterable<T> | Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const queue: Promise<R>[] = [];
  for await (const item of items) {
    const p = fn(item);
    p.catch(() => {}); // handled when awaited in order below
    queue.push(p);
    if (queue.length >= limit) yield await queue.shift()!;
  }
  while (queue.length) yield await queue.shift()!;
}
