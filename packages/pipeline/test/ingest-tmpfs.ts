import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { tmpDir } from "./ingest-helpers.ts";

/**
 * A small real filesystem for the full-disk tests: a tmpfs mounted on a fresh folder (root
 * only; CI runs as root). Where none can be mounted, `skip` says why.
 */
export interface Tmpfs {
  dir: string;
  remount(options: string): void;
  unmount(): void;
}

export function mountTmpfs(bytes: number): Tmpfs | { skip: string } {
  if (process.getuid?.() !== 0) return { skip: "mounting a tmpfs needs root (CI runs as root)" };
  const dir = tmpDir("tmpfs-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    return { skip: `cannot mount a tmpfs here: ${(err as Error).message.split("\n")[0]}` };
  }
  return {
    dir,
    remount: (options) =>
      execFileSync("mount", ["-o", `remount,${options}`, dir], { stdio: "pipe" }),
    unmount() {
      execFileSync("umount", [dir], { stdio: "pipe" });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Fills the filesystem of `dir` until `leave` bytes stay free; returns the filler file. */
export function fill(dir: string, leave = 0): string {
  const file = path.join(dir, "filler");
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

/** Temporary files, `.staging` / `.trash` entries and lock files under a store. */
export function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const rel = path.relative(root, p);
      if (/\.tmp$/.test(e.name) || e.name.startsWith(".lock") || /^\.(staging|trash)\//.test(rel))
        out.push(rel);
      else if (e.isDirectory()) walk(p);
    }
  };
  if (fs.existsSync(root)) walk(root);
  return out.sort();
}
