import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { StoreError } from "./errors.js";
import { pidAlive, token } from "./fs-util.js";
import { toWriteError, withWriteErrors } from "./write-failure.js";

/** Content of a store's `.lock` file. */
export interface LockInfo {
  pid: number;
  hostname: string;
  acquiredAt: string;
  purpose: string;
}

/** A held write lock; `release()` is idempotent. */
export interface StoreLock {
  readonly info: LockInfo;
  release(): Promise<void>;
}

async function readLock(file: string): Promise<LockInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as LockInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Unreadable content cannot come from our writer (the file is linked in complete).
    return { pid: -1, hostname: os.hostname(), acquiredAt: "", purpose: "unreadable lock file" };
  }
}

/** A lock is stale when its holder ran on this host and is no longer alive. */
function isStale(info: LockInfo): boolean {
  return info.hostname === os.hostname() && (info.pid <= 0 || !pidAlive(info.pid));
}

/**
 * Takes the store's write lock (`<store>/.lock`, holding pid, host and time). The file is
 * written complete beside the target and hard-linked into place, so it exists only with its
 * content. A lock left by a dead process on this host is broken (stale-lock detection).
 * Waits up to `timeoutMs` for a live holder, then throws `STORE_LOCKED`.
 */
export async function acquireLock(
  root: string,
  opts: { timeoutMs?: number; purpose?: string; signal?: AbortSignal } = {},
): Promise<StoreLock> {
  const file = path.join(root, ".lock");
  const info: LockInfo = {
    pid: process.pid,
    hostname: os.hostname(),
    acquiredAt: new Date().toISOString(),
    purpose: opts.purpose ?? "write",
  };
  const tmp = path.join(root, `.lock.${token()}.tmp`);
  const deadline = Date.now() + (opts.timeoutMs ?? 0);
  const step = { store: root, writing: "the store lock", path: file };
  try {
    // A full disk can fail the write after the file was created: the finally removes it.
    await withWriteErrors(step, () => fs.writeFile(tmp, JSON.stringify(info)));
    for (;;) {
      opts.signal?.throwIfAborted();
      try {
        await fs.link(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw await toWriteError(err, step);
      }
      const holder = await readLock(file);
      if (holder && isStale(holder)) {
        await withWriteErrors(step, () => breakStaleLock(file, holder));
        continue;
      }
      if (Date.now() >= deadline) {
        throw new StoreError(
          "STORE_LOCKED",
          `store ${root} is locked by pid ${holder?.pid} on ${holder?.hostname} (${holder?.purpose}, since ${holder?.acquiredAt}); if no such process is running, delete ${file}`,
          { store: root, holder },
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
  let released = false;
  return {
    info,
    async release() {
      if (released) return;
      released = true;
      const cur = await readLock(file);
      if (cur && cur.pid === info.pid && cur.acquiredAt === info.acquiredAt)
        await withWriteErrors({ ...step, writing: "the release of the store lock" }, () =>
          fs.rm(file, { force: true }),
        );
    },
  };
}

/**
 * Removes a stale lock without removing a fresh one another process made in between: move
 * it aside, check it is still the stale one, put it back if not.
 */
async function breakStaleLock(file: string, stale: LockInfo): Promise<void> {
  const aside = `${file}.stale.${token()}`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = await readLock(aside);
  if (moved && moved.pid === stale.pid && moved.acquiredAt === stale.acquiredAt) {
    await fs.rm(aside, { force: true });
    return;
  }
  try {
    await fs.link(aside, file);
  } catch {
    // someone took the lock meanwhile; theirs stands
  }
  await fs.rm(aside, { force: true });
}
