import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { BROKEN_VARIANTS, writeCohort } from "@lungflow/phantom";
import { VARIANT_CHOICES } from "../src/commands/phantom.ts";

// The built command, as users run it (the test task depends on the build).
const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const dir = fs.mkdtempSync(path.join(tmpdir(), "cli-startup-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));
// A module hook that prints every module the process resolves ("LOADED <url>" on stderr).
fs.writeFileSync(
  path.join(dir, "loader.mjs"),
  'import { writeSync } from "node:fs";\n' +
    "export async function resolve(spec, ctx, next) {\n" +
    "  const r = await next(spec, ctx);\n" +
    "  writeSync(2, 'LOADED ' + r.url + '\\n');\n" +
    "  return r;\n" +
    "}\n",
);
fs.writeFileSync(
  path.join(dir, "hook.mjs"),
  'import { register } from "node:module";\nregister("./loader.mjs", import.meta.url);\n',
);

/** Runs `lungflow ...args` and returns its stdout and the modules it loaded (not node:). */
function loaded(args: string[]): { stdout: string; status: number | null; modules: string[] } {
  const r = spawnSync(process.execPath, ["--import", path.join(dir, "hook.mjs"), BIN, ...args], {
    encoding: "utf8",
  });
  const modules = r.stderr
    .split("\n")
    .filter((l) => l.startsWith("LOADED ") && !l.startsWith("LOADED node:"))
    .map((l) => fileURLToPath(l.slice("LOADED ".length)));
  return { stdout: r.stdout, status: r.status, modules };
}

const cliDist = path.dirname(BIN) + path.sep;
const light = (m: string) =>
  m.startsWith(cliDist) ? !m.includes("-actions.js") : /[\\/]commander[\\/]/.test(m);

for (const args of [
  ["--version"],
  ["--help"],
  ["ingest", "--help"],
  ["train", "classifier", "--help"],
]) {
  test(`lungflow ${args.join(" ")} loads only commander and the command registrations`, () => {
    const r = loaded(args);
    assert.equal(r.status, 0);
    assert.ok(r.stdout.length > 0);
    assert.ok(
      r.modules.some((m) => m.startsWith(cliDist)),
      "the hook saw the CLI load",
    );
    const heavy = r.modules.filter((m) => !light(m));
    assert.deepEqual(heavy, [], `modules a ${args.join(" ")} must not load`);
  });
}

test("an action loads its module when it runs (a failing store ls reaches the patch store)", () => {
  const r = loaded(["store", "ls", path.join(dir, "no-such-store")]);
  assert.notEqual(r.status, 0);
  assert.ok(r.modules.some((m) => m.endsWith(`${path.sep}store-actions.js`)));
});

// What a folder ingest's main thread must not load: the training stack, the queue, the
// DICOMweb client, and the preprocessing itself (that runs in the worker threads).
const NOT_FOR_INGEST = [
  /[\\/]@tensorflow[\\/]/,
  /[\\/]bullmq[\\/]/,
  /[\\/]ioredis[\\/]/,
  /[\\/]undici[\\/]/,
  /multipart-parser/,
  /[\\/]packages[\\/](gmcae|classifier|tf-runtime|tfjs-conv3d-native|report|viewer|dicom-ingest)[\\/]/,
  /[\\/]pipeline[\\/]dist[\\/](train|features)[\\/]/,
  /[\\/]pipeline[\\/]dist[\\/]ingest[\\/](run-task|queue[\\/]|dicomweb[\\/](client|run-dicomweb))/,
];

test("a folder ingest loads the ingest path only (no tfjs, BullMQ, undici, preprocessing on the main thread)", async () => {
  const root = path.join(dir, "cohort");
  await writeCohort({
    out: root,
    patients: 1,
    seed: 5,
    matrix: 128,
    slices: 48,
    pixelSpacing: 0.9,
    sliceSpacing: 2.5,
    groundTruth: false,
  });
  const report = path.join(dir, "ingest.json");
  const r = loaded([
    "ingest",
    root,
    "--store",
    path.join(dir, "ingest.zarr"),
    "--workers",
    "1",
    "--report",
    report,
  ]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /1 ingested/);
  // The hook saw the ingest flow itself load (module resolution went through it).
  assert.ok(r.modules.some((m) => /[\\/]pipeline[\\/]dist[\\/]ingest[\\/]ingest\.js$/.test(m)));
  const heavy = r.modules.filter((m) => NOT_FOR_INGEST.some((re) => re.test(m)));
  assert.deepEqual(heavy, [], "modules a folder ingest's main thread must not load");
  // The report says when the first patient went to the workers (ms from process start).
  const { startup } = JSON.parse(fs.readFileSync(report, "utf8"));
  assert.ok(Number.isInteger(startup.readyMs) && startup.readyMs > 0, JSON.stringify(startup));
});

test("phantom --variant choices are the phantom package's BROKEN_VARIANTS", () => {
  assert.deepEqual(VARIANT_CHOICES, BROKEN_VARIANTS);
});
