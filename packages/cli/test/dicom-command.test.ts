import assert from "node:assert/strict";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { readNifti, readSeries } from "@lungflow/dicom-ingest";
import { makePhantom, writeSeries } from "@lungflow/phantom";
import { Command } from "commander";
import { registerDicom } from "../src/commands/dicom.ts";

const root = mkdtempSync(path.join(tmpdir(), "cli-dicom-"));
after(() => rmSync(root, { recursive: true, force: true }));
const cohort = path.join(root, "cohort");

before(async () => {
  await writeSeries(
    makePhantom({ seed: 1, slices: 16, matrix: 48, patientId: "good" }),
    path.join(cohort, "good"),
    { groundTruth: false },
  );
  await writeSeries(
    makePhantom({ seed: 2, slices: 16, matrix: 48, patientId: "tilted" }),
    path.join(cohort, "tilted"),
    {
      variant: "gantry-tilt",
      groundTruth: false,
    },
  );
  await writeSeries(
    makePhantom({ seed: 3, slices: 16, matrix: 48, patientId: "loc" }),
    path.join(cohort, "loc"),
    {
      variant: "localizer",
      groundTruth: false,
    },
  );
});

/** Runs `lungflow dicom ...args`, capturing stdout lines and the exit code. */
async function run(...args: string[]): Promise<{ out: string[]; code: number }> {
  const program = new Command("lungflow").exitOverride();
  registerDicom(program);
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  process.exitCode = 0;
  try {
    await program.parseAsync(["node", "lungflow", "dicom", ...args]);
  } finally {
    console.log = log;
    console.error = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, code };
}

test("dicom check: one line per patient, error codes, exit code 2 when one fails", async () => {
  const { out, code } = await run("check", cohort);
  assert.equal(code, 2);
  assert.match(out.find((l) => l.startsWith("good"))!, /ok {2}16 x 48 x 48/);
  assert.match(out.find((l) => l.startsWith("tilted"))!, /GANTRY_TILT/);
  assert.match(out.find((l) => l.startsWith("loc"))!, /ok .*warnings: SKIPPED_FILES/);
  assert.match(out.at(-1)!, /3 patient\(s\), 2 ok, 1 failed/);
  const json = await run("check", cohort, "--json");
  const lines = json.out.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.status).sort(), ["GANTRY_TILT", "ok", "ok"]);
});

test("dicom summarize: a CSV row per file with status and header fields", async () => {
  const csv = path.join(root, "headers.csv");
  const { code } = await run("summarize", cohort, "--out", csv);
  assert.equal(code, 0);
  const rows = readFileSync(csv, "utf8").trim().split("\n");
  const header = rows[0].split(",");
  assert.equal(header[0], "path");
  assert.equal(rows.length, 1 + 16 * 3 + 1);
  const status = header.indexOf("status");
  const statuses = rows.slice(1).map((r) => r.split(",")[status]);
  assert.equal(statuses.filter((s) => s === "LOCALIZER").length, 1);
  assert.equal(statuses.filter((s) => s === "ok").length, 48);
});

test("dicom convert: NIfTI holds the HU volume; a broken series exits 1 with its code", async () => {
  const nii = path.join(root, "out", "good.nii.gz");
  const ok = await run("convert", path.join(cohort, "good"), "--out", nii);
  assert.equal(ok.code, 0, ok.out.join("\n"));
  const img = await readNifti(nii);
  const { volume } = await readSeries(path.join(cohort, "good"));
  assert.deepEqual(Array.from(img.data as Int16Array), Array.from(volume.data));
  const bad = await run(
    "convert",
    path.join(cohort, "tilted"),
    "--out",
    path.join(root, "out", "t.nii"),
  );
  assert.equal(bad.code, 1);
  assert.match(bad.out.join("\n"), /GANTRY_TILT/);
});

test("dicom check: a folder whose files are all refused fails with the reason (never '0 patients ... exit 0')", async () => {
  const good = path.join(cohort, "good");
  const files = readdirSync(good).map((f) => path.join(good, f));
  const variants: Record<string, { write: (dir: string) => void; code: RegExp }> = {
    "mr-only": {
      // Modality (0008,0060) "CT" -> "MR" in every file of a real series.
      write: (dir) => {
        for (const f of files) {
          const b = readFileSync(f);
          const at = b.indexOf(Buffer.from([0x08, 0x00, 0x60, 0x00]));
          const value = b.indexOf("CT", at, "latin1");
          b.write("MR", value, "latin1");
          writeFileSync(path.join(dir, path.basename(f)), b);
        }
      },
      code: /NOT_CT/,
    },
    "all-truncated": {
      write: (dir) => {
        for (const f of files)
          writeFileSync(path.join(dir, path.basename(f)), readFileSync(f).subarray(0, 300));
      },
      code: /TRUNCATED/,
    },
    "not-dicom": {
      write: (dir) => {
        for (let i = 0; i < 12; i++)
          writeFileSync(path.join(dir, `n${i}.txt`), "text\n".repeat(40));
      },
      code: /NOT_DICOM/,
    },
    empty: { write: () => {}, code: /NO_SERIES .*among 0 files/ },
  };
  for (const [name, v] of Object.entries(variants)) {
    // As the root itself (loose files: no patient folder) and as a patient folder.
    const loose = path.join(root, "refused", name);
    mkdirSync(loose, { recursive: true });
    v.write(loose);
    const asRoot = await run("check", loose);
    assert.equal(asRoot.code, 2, `${name}: ${asRoot.out.join("\n")}`);
    assert.match(asRoot.out[0], new RegExp(`^${name} {2}`));
    assert.match(asRoot.out[0], v.code);
    assert.match(asRoot.out.at(-1)!, /1 patient\(s\), 0 ok, 1 failed/);
    const nested = path.join(root, "refused-nested", name);
    cpSync(loose, path.join(nested, "p1"), { recursive: true });
    const json = await run("check", nested, "--json");
    assert.equal(json.code, 2, `${name}: ${json.out.join("\n")}`);
    const lines = json.out.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.match(`${lines[0].status} ${lines[0].reason}`, v.code);
  }
});
