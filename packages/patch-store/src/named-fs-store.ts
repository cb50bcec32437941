import * as path from "node:path";
import FileSystemStore from "@zarrita/storage/fs";

/**
 * zarrita's `FileSystemStore` whose failed writes name their file: Node's error for a failed
 * `write` (ENOSPC in the middle of a chunk) carries no path, and a full disk must say where.
 */
export class NamedFileSystemStore extends FileSystemStore {
  override async set(key: `/${string}`, value: Uint8Array): Promise<void> {
    try {
      await super.set(key, value);
    } catch (err) {
      const e = err as { path?: unknown };
      if (err instanceof Error && typeof e.path !== "string")
        e.path = path.join(this.root, key.slice(1));
      throw err;
    }
  }
}
