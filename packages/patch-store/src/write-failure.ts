import * as fs from "node:fs/promises";
import * as path from "node:path";
import { LungflowError } from "@lungflow/volume";
import { StoreError, type StoreErrorCode } from "./errors.js";

/** One write of the store, named for the error a failing operating-system call becomes. */
export interface WriteStep {
  /** The store root (absolute). */
  store: string;
  /** What was being written, for people: `patient 0042 (hu, mask, metadata)`. */
  writing: string;
  /** The file or folder written, used when the failed call names none. */
  path: string;
  patientId?: string;
}

type ErrnoError = Error & { code: string; syscall?: string; path?: string };

/** An error from a Node `fs` call (it carries an errno `code` and the `syscall`). */
function isErrnoError(err: unknown): err is ErrnoError {
  return (
    err instanceof Error &&
    !(err instanceof LungflowError) &&
    typeof (err as { code?: unknown }).code === "string" &&
    typeof (err as { syscall?: unknown }).syscall === "string"
  );
}

const CODES: Record<string, StoreErrorCode> = {
  ENOSPC: "DISK_FULL",
  EDQUOT: "DISK_FULL",
  EACCES: "PERMISSION_DENIED",
  EPERM: "PERMISSION_DENIED",
  EROFS: "READ_ONLY_FS",
};

/** `1.5 MiB`; bytes below 1 KiB as `812 bytes`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** Bytes an unprivileged user can still write on the filesystem holding `p` (or its parent). */
export async function freeBytes(p: string): Promise<number | undefined> {
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      const s = await fs.statfs(dir);
      return s.bavail * s.bsize;
    } catch {
      if (dir === path.dirname(dir)) return undefined;
    }
  }
}

/**
 * Node's recursive `mkdir` reports ENOENT when it cannot create a missing parent, whatever
 * the reason (EROFS, EACCES, ENOSPC): the real one comes from creating the first missing
 * folder alone (removed again if that works).
 */
async function mkdirErrno(dir: string): Promise<string | undefined> {
  let first = path.resolve(dir);
  while (path.dirname(first) !== first) {
    const parent = path.dirname(first);
    if (
      await fs.stat(parent).then(
        () => true,
        () => false,
      )
    )
      break;
    first = parent;
  }
  try {
    await fs.mkdir(first);
    await fs.rmdir(first).catch(() => undefined);
    return undefined;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code;
  }
}

/**
 * The typed error a failed store write becomes: ENOSPC / EDQUOT -> `DISK_FULL` (with the free
 * bytes), EACCES / EPERM -> `PERMISSION_DENIED`, EROFS -> `READ_ONLY_FS`, any other
 * operating-system error -> `WRITE_FAILED`; each names the path and what was written.
 * Anything that is not an operating-system error (a lungflow error, a bug) is returned as it
 * is: an internal error is never relabelled as an I/O one.
 */
export async function toWriteError(err: unknown, step: WriteStep): Promise<unknown> {
  if (!isErrnoError(err)) return err;
  const errno =
    err.code === "ENOENT" && err.syscall === "mkdir" && err.path
      ? ((await mkdirErrno(err.path)) ?? err.code)
      : err.code;
  const code = CODES[errno] ?? "WRITE_FAILED";
  const p = err.path ?? step.path;
  const context: Record<string, unknown> = {
    store: step.store,
    path: p,
    writing: step.writing,
    ...(step.patientId !== undefined ? { patientId: step.patientId } : {}),
    errno,
    syscall: err.syscall,
  };
  let message: string;
  switch (code) {
    case "DISK_FULL": {
      const free = await freeBytes(step.store);
      context.freeBytes = free;
      const what = errno === "EDQUOT" ? "disk quota exceeded" : "disk full";
      message = `${what} writing ${step.writing} to ${p} (${free === undefined ? "free space unknown" : `${formatBytes(free)} free`} on the filesystem of store ${step.store}); nothing of this write was kept. Free space (or use another store) and run again`;
      break;
    }
    case "PERMISSION_DENIED":
      message = `permission denied writing ${step.writing} to ${p} (store ${step.store}; lungflow runs as uid ${process.getuid?.() ?? "?"}): give that user write access to the store or use another one`;
      break;
    case "READ_ONLY_FS":
      message = `read-only filesystem: cannot write ${step.writing} to ${p} (store ${step.store}); remount it read-write or use another store`;
      break;
    default:
      message = `cannot write ${step.writing} to ${p} (store ${step.store}): ${err.message}`;
  }
  return new StoreError(code, message, context, { cause: err });
}

/** Runs `fn`, turning an operating-system error it throws into {@link toWriteError}'s. */
export async function withWriteErrors<T>(step: WriteStep, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw await toWriteError(err, step);
  }
}
