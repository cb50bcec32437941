/** Runs test/fixtures/reference.py (Debian python with scipy + scikit-image) on raw arrays. */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { mulberry32 } from "@lungflow/volume";

const PY = "/usr/bin/python3";
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures", "reference.py");

/** Undefined when the reference tools are there, else the reason to skip. */
export const referenceSkip: string | undefined = (() => {
  if (!fs.existsSync(PY)) return `${PY} not found: skipping the scipy/scikit-image parity test`;
  const r = spawnSync(PY, ["-c", "import scipy, skimage, numpy"], { encoding: "utf8" });
  return r.status === 0
    ? undefined
    : `scipy/scikit-image missing in ${PY}: skipping the parity test (${r.stderr.trim().split("\n").pop()})`;
})();

export interface RefTask {
  op: string;
  data: Int16Array | Uint8Array;
  shape: readonly number[];
  [k: string]: unknown;
}

export interface RefResult {
  json: Record<string, unknown>;
  /** raw outputs by suffix ("" for the main output, ".tight", ".box") */
  read(suffix?: string): Buffer;
}

/** Runs all tasks in one python process (scipy's import is the slow part). */
export function runReference(tasks: RefTask[]): RefResult[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lungseg-ref-"));
  try {
    const job = tasks.map((t, i) => {
      const { data, ...rest } = t;
      const input = path.join(dir, `in${i}.raw`);
      fs.writeFileSync(input, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return {
        ...rest,
        input,
        dtype: data instanceof Int16Array ? "int16" : "uint8",
        output: path.join(dir, `out${i}.raw`),
      };
    });
    fs.writeFileSync(path.join(dir, "job.json"), JSON.stringify({ tasks: job }));
    const r = spawnSync(PY, [SCRIPT, path.join(dir, "job.json")], {
      encoding: "utf8",
      maxBuffer: 1 << 26,
    });
    if (r.status !== 0) throw new Error(`reference.py failed: ${r.stderr}`);
    const out = JSON.parse(r.stdout) as Record<string, unknown>[];
    // Read every output now: the folder goes away below.
    return out.map((json, i) => {
      const files = new Map<string, Buffer>();
      for (const suffix of ["", ".tight", ".box"]) {
        const f = job[i].output + suffix;
        if (fs.existsSync(f)) files.set(suffix, fs.readFileSync(f));
      }
      return {
        json,
        read: (suffix = "") => {
          const b = files.get(suffix);
          if (!b) throw new Error(`no reference output ${suffix} for task ${i}`);
          return b;
        },
      };
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Deterministic PRNG (mulberry32). */
export const rng = mulberry32;

/** A random 0/1 mask with blobs: random seeds dilated, so components have real shapes. */
export function randomMask(n: number, p: number, rand: () => number): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) m[i] = rand() < p ? 1 : 0;
  return m;
}
