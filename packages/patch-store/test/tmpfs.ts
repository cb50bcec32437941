import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpDir } from "./helpers.ts";

/**
 * A real small filesystem for write-failure tests: a tmpfs of `bytes` mounted on a fresh
 * folder (root only; CI runs as root). `skip` says why there is none (then tests skip).
 */
export interface Tmpfs {
  dir: string;
  /** Remount with other options (`ro`, `rw`, `size=...`). */
  remount(options: string): void;
  unmount(): void;
}

export function mountTmpfs(bytes: number, extra = ""): Tmpfs | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root (CI runs as root)" };
  const dir = tmpDir("tmpfs-");
  try {
    execFileSync(
      "mount",
      ["-t", "tmpfs", "-o", `size=${bytes}${extra ? `,${extra}` : ""}`, "tmpfs", dir],
      {
        stdio: "pipe",
      },
    );
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${(err as Error).message.split("\n")[0]}` };
  }
  return {
    dir,
    remount(options: string) {
      execFileSync("mount", ["-o", `remount,${options}`, dir], { stdio: "pipe" });
    },
    unmount() {
      execFileSync("umount", [dir], { stdio: "pipe" });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Bytes an unprivileged writer may still use under `dir`. */
export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Fills the filesystem of `dir` with `<dir>/filler-<n>` until `leave` bytes stay free (0:
 * until a write fails with ENOSPC). Returns the filler's path; delete it to free the space.
 */
export function fill(dir: string, leave = 0, name = "filler"): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, "a");
  const page = Buffer.alloc(4096, 0x5a);
  try {
    while (freeBytes(dir) > leave) fs.writeSync(fd, page);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/**
 * Every path under `root` that a failed write must not leave: temporary files (`.….tmp`),
 * entries of `.staging/` and `.trash/`, lock leftovers (`.lock.…`).
 */
export function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(root, p);
      if (/\.tmp$/.test(e.name) || e.name.startsWith(".lock") || /^\.(staging|trash)\//.test(rel)) {
        out.push(rel);
        continue;
      }
      if (e.isDirectory()) walk(p);
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}
