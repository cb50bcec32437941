import { opendir } from "node:fs/promises";
import path from "node:path";

/**
 * Yields every regular file under `root` (recursively, depth first, names sorted within a
 * folder so the order is deterministic), streaming: one folder listing in memory at a time.
 * Hidden files and folders (".name") are skipped, and so is whatever `ignore` returns true
 * for (called with the path and whether it is a folder).
 */
export async function* walkFiles(
  root: string,
  signal?: AbortSignal,
  ignore?: (path: string, isDirectory: boolean) => boolean,
): AsyncGenerator<string> {
  const dir = await opendir(root);
  const files: string[] = [];
  const dirs: string[] = [];
  for await (const e of dir) {
    if (e.name.startsWith(".")) continue;
    const p = path.join(root, e.name);
    const isDir = e.isDirectory();
    if (ignore?.(p, isDir)) continue;
    if (isDir) dirs.push(p);
    else if (e.isFile()) files.push(p);
  }
  files.sort();
  dirs.sort();
  for (const f of files) {
    signal?.throwIfAborted();
    yield f;
  }
  for (const d of dirs) yield* walkFiles(d, signal, ignore);
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
