import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PY = "/usr/bin/python3";
const SCRIPT = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  "..",
  "fixtures",
  "expected_hu.py",
);

/** Skip reason when Debian's python3 with pydicom and numpy is missing, else false. */
export const pydicomSkip: string | false =
  spawnSync(PY, ["-c", "import pydicom, numpy"]).status === 0
    ? false
    : "Debian python3 with pydicom and numpy (/usr/bin/python3) is not available";

/** Runs the committed pydicom script on folders: the expected HU volumes and geometry. */
export function pydicomHu(
  dirs: string[],
): { hu: Int16Array; shape: number[]; spacing: number[]; origin: number[] }[] {
  const args = dirs.flatMap((d) => [d, `${d}.raw`]);
  const lines = execFileSync(PY, [SCRIPT, ...args], { encoding: "utf8" })
    .trim()
    .split("\n");
  return dirs.map((d, i) => {
    const buf = readFileSync(`${d}.raw`);
    return {
      hu: new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2),
      ...JSON.parse(lines[i]),
    };
  });
}
