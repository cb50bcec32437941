import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { main } from "../src/program.ts";

const root = mkdtempSync(path.join(tmpdir(), "cli-phantom-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Runs `lungflow ...args` in-process, capturing what it prints and the exit code. */
async function lungflow(...args: string[]): Promise<{ out: string; code: number }> {
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  process.exitCode = 0;
  let code: number;
  try {
    code = await main(["node", "lungflow", ...args]);
  } finally {
    console.log = log;
    console.error = err;
  }
  process.exitCode = 0;
  return { out: out.join("\n"), code };
}

test("phantom cohort with its defaults (realistic preset) gives chests ingest takes with its defaults", async () => {
  const dicom = path.join(root, "dicom");
  // Only the matrix is overridden (128: fast); the field of view, slices and anatomy are the defaults.
  const c = await lungflow(
    "phantom",
    "cohort",
    "--out",
    dicom,
    "--patients",
    "2",
    "--seed",
    "2",
    "--matrix",
    "128",
    "--json",
  );
  assert.equal(c.code, 0, c.out);
  const written = JSON.parse(c.out) as { patients: { patientId: string; files: number }[] };
  assert.equal(written.patients.length, 2);
  for (const p of written.patients) assert.ok(p.files >= 80, `${p.patientId}: ${p.files} slices`);
  const report = path.join(root, "ingest.json");
  const r = await lungflow(
    "ingest",
    dicom,
    "--store",
    path.join(root, "s.zarr"),
    "--report",
    report,
  );
  assert.equal(r.code, 0, r.out);
  const { summary, events } = JSON.parse(readFileSync(report, "utf8")) as {
    summary: { ingested: number; failed: number };
    events: { type: string; shape?: number[] }[];
  };
  assert.equal(summary.failed, 0, r.out);
  assert.equal(summary.ingested, 2);
  // Adult lungs at 1 mm: ~200-280 mm high, over 200 mm wide.
  for (const e of events.filter((x) => x.type === "ingested")) {
    const [z, y, x] = e.shape ?? [];
    assert.ok(z >= 180 && z <= 300 && y >= 100 && x >= 200, `stored lung ${e.shape}`);
  }
});

test("phantom series --preset mini keeps the small test chest; a bad preset is refused", async () => {
  const dir = path.join(root, "mini");
  const m = await lungflow(
    "phantom",
    "series",
    "--out",
    dir,
    "--seed",
    "1",
    "--preset",
    "mini",
    "--no-ground-truth",
  );
  assert.equal(m.code, 0, m.out);
  assert.match(m.out, /\(48x96x96,/);
  assert.equal(readdirSync(dir).length, 48);
  const bad = await lungflow(
    "phantom",
    "series",
    "--out",
    path.join(root, "x"),
    "--seed",
    "1",
    "--preset",
    "huge",
  );
  assert.notEqual(bad.code, 0); // commander's "Allowed choices are realistic, mini" goes to stderr
  // An adult chest does not fit a 67 mm field of view: refused before --out is touched.
  const small = await lungflow(
    "phantom",
    "series",
    "--out",
    dir,
    "--seed",
    "1",
    "--matrix",
    "96",
    "--pixel-spacing",
    "0.7",
  );
  assert.equal(small.code, 1);
  assert.match(small.out, /field of view .* at least 300 mm, got 67\.2 mm/);
  assert.equal(readdirSync(dir).length, 48);
  assert.equal(readdirSync(root).includes("x"), false);
});
