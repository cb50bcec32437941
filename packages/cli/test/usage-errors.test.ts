import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { main } from "../src/program.ts";

const root = mkdtempSync(path.join(tmpdir(), "cli-usage-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs `lungflow ...args` in-process; a thrown error (a bug, not a usage error) fails the test. */
async function lungflow(...args: string[]): Promise<{ err: string; code: number }> {
  const err: string[] = [];
  const orig = console.error;
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  process.exitCode = 0;
  try {
    return { code: await main(["node", "lungflow", ...args]), err: err.join("\n") };
  } finally {
    console.error = orig;
    process.exitCode = 0;
  }
}

// Each bad flag is refused by the command's action through runAction: one line naming the
// command and the flag, exit 1, before anything is read or written.
const cases: [string[], RegExp][] = [
  [
    ["ingest", root, "--store", path.join(root, "s.zarr"), "--zstd-level", "30"],
    /^lungflow ingest: --zstd-level: expected an integer in 1\.\.22, got "30"$/,
  ],
  [
    ["ingest", root, "--store", path.join(root, "s.zarr"), "--workers", "0"],
    /^lungflow ingest: --workers: expected an integer >= 1, got "0"$/,
  ],
  [
    ["report", "--store", root, "--runs", root, "--out", root, "--max-images", "-1"],
    /^lungflow report: --max-images: expected an integer >= 0, got "-1"$/,
  ],
  [
    ["demo", "--dir", root, "--patients", "3"],
    /^lungflow demo: --patients: expected an integer >= 6, got "3"$/,
  ],
  [
    ["demo", "--dir", root, "--holdout", "0.9"],
    /^lungflow demo: --holdout: expected a fraction in \(0, 0\.8\), got "0\.9"$/,
  ],
  [
    ["features", "--store", root, "--gmcae", root, "--symmetries", "49"],
    /^lungflow features: --symmetries: expected an integer in 1\.\.48, got "49"$/,
  ],
  [
    ["dicom", "convert", root, "--out", path.join(root, "x.txt")],
    /^lungflow dicom convert: --out must end with \.nii or \.nii\.gz/,
  ],
  [
    ["store", "split", root, "--seed", "x"],
    /^lungflow store split: --seed: expected an integer, got "x"$/,
  ],
];
for (const [args, message] of cases) {
  test(`lungflow ${args.filter((a) => !a.startsWith(root)).join(" ")}: usage error, exit 1`, async () => {
    const r = await lungflow(...args);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, message);
  });
}

test("phantom: an impossible geometry and a foreign --out are usage errors of `lungflow phantom`", async () => {
  const geometry = await lungflow(
    "phantom",
    "series",
    "--out",
    path.join(root, "p"),
    "--seed",
    "1",
    "--matrix",
    "96",
    "--pixel-spacing",
    "0.7",
  );
  assert.equal(geometry.code, 1);
  assert.match(
    geometry.err,
    /^lungflow phantom: the realistic preset's adult chest needs a field of view/,
  );
  const mine = path.join(root, "mine");
  mkdirSync(mine);
  writeFileSync(path.join(mine, "notes.txt"), "not a phantom\n");
  const foreign = await lungflow(
    "phantom",
    "series",
    "--out",
    mine,
    "--seed",
    "1",
    "--preset",
    "mini",
  );
  assert.equal(foreign.code, 1);
  assert.match(foreign.err, /^lungflow phantom: .* is not empty and holds no phantom series/);
  assert.equal(readFileSync(path.join(mine, "notes.txt"), "utf8"), "not a phantom\n");
});
