import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { makePhantom, writeCohort, writeSeries } from "@lungflow/phantom";

const BIN = fileURLToPath(new URL("../../packages/cli/dist/bin.js", import.meta.url));
const GEOMETRY = { matrix: 128, slices: 40, pixelSpacing: 0.9, sliceSpacing: 2.5 } as const;

function lungflow(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 300_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("lungflow ingest + store ls|info|verify|labels|split on a phantom cohort", async (t) => {
  if (!fs.existsSync(BIN)) {
    t.skip(`CLI not built (${BIN}); run pnpm build`);
    return;
  }
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-ingest-"));
  const root = path.join(base, "dicom");
  const store = path.join(base, "lungs.zarr");
  const c = await writeCohort({ out: root, patients: 2, seed: 3, ...GEOMETRY, groundTruth: false });
  const ids = c.patients.map((p) => p.patientId).sort();
  const broken = path.join(root, "broken");
  await writeSeries(makePhantom({ seed: 9, ...GEOMETRY, patientId: "broken" }), broken, {
    variant: "missing-slice",
    groundTruth: false,
  });
  const reportFile = path.join(base, "ingest.json");

  // Some failed: exit 2, one line per event (not a TTY), a report.
  const r1 = lungflow(
    "ingest",
    root,
    "--store",
    store,
    "--labels",
    c.labelsCsv,
    "--workers",
    "2",
    "--report",
    reportFile,
  );
  assert.equal(r1.code, 2, r1.out + r1.err);
  assert.match(r1.out, /FAILED\s+broken at read: MISSING_SLICES/);
  for (const id of ids) assert.match(r1.out, new RegExp(`ingested\\s+${id}`));
  assert.match(r1.out, /2 ingested .* 1 failed of 3/);
  const rep = JSON.parse(fs.readFileSync(reportFile, "utf8"));
  assert.equal(rep.summary.ingested, 2);
  assert.deepEqual(
    rep.summary.failures.map((f: { id: string; code: string }) => `${f.id}:${f.code}`),
    ["broken:MISSING_SLICES"],
  );
  assert.ok(rep.events.some((e: { type: string }) => e.type === "labels"));

  // All in: exit 0, nothing re-done.
  fs.rmSync(broken, { recursive: true });
  const r2 = lungflow("ingest", root, "--store", store, "--workers", "1");
  assert.equal(r2.code, 0, r2.out + r2.err);
  assert.match(r2.out, /0 ingested .* 2 unchanged, 0 failed of 2/);

  const ls = lungflow("store", "ls", store, "--json");
  assert.equal(ls.code, 0, ls.err);
  const pats = JSON.parse(ls.out) as { id: string; label?: number; shape: number[] }[];
  assert.deepEqual(
    pats.map((p) => p.id),
    ids,
  );
  for (const p of pats) assert.equal(p.label, c.patients.find((q) => q.patientId === p.id)?.label);
  const lsTable = lungflow("store", "ls", store);
  assert.match(lsTable.out, /^id\s+shape/m);
  assert.match(lsTable.out, /2 patient\(s\)/);

  const info = JSON.parse(lungflow("store", "info", store, "--json").out);
  assert.equal(info.patients, 2);
  assert.equal(info.labelled, 2);
  assert.equal(info.params.maskMode, "kdsb17");

  const split = lungflow(
    "store",
    "split",
    store,
    "--seed",
    "3",
    "--validation-fraction",
    "0.5",
    "--json",
  );
  assert.equal(split.code, 0, split.err);
  const sp = JSON.parse(split.out);
  assert.equal(sp.train.length + sp.validation.length, 2);
  assert.deepEqual(
    lungflow(
      "store",
      "split",
      store,
      "--seed",
      "3",
      "--validation-fraction",
      "0.5",
      "--json",
    ).out.replace(/"createdAt":"[^"]+"/, ""),
    split.out.replace(/"createdAt":"[^"]+"/, ""),
  );

  const badCsv = path.join(base, "bad.csv");
  fs.writeFileSync(badCsv, `id,cancer\n${ids[0]},1\n${ids[0]},0\nnobody,1\n`);
  const lab = lungflow("store", "labels", store, badCsv);
  assert.equal(lab.code, 1);
  assert.match(lab.err, /LABELS_INVALID/);
  assert.match(lab.err, /line 3: duplicate id/);
  assert.match(lab.err, /line 4: unknown patient id nobody/);

  const ok = lungflow("store", "verify", store);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /^OK: 2 patient/m);

  // Corrupt one chunk: verify says so and exits 2.
  const chunkDir = path.join(store, "patients", ids[1], "hu", "c", "0", "0");
  const chunk = path.join(chunkDir, fs.readdirSync(chunkDir)[0]);
  const bytes = fs.readFileSync(chunk);
  bytes[Math.floor(bytes.length / 3)] ^= 0xff;
  fs.writeFileSync(chunk, bytes);
  const bad = lungflow("store", "verify", store, "--json");
  assert.equal(bad.code, 2);
  const vr = JSON.parse(bad.out);
  assert.equal(vr.ok, false);
  assert.equal(vr.problems[0].patientId, ids[1]);

  const fatal = lungflow("ingest", path.join(base, "missing"), "--store", store);
  assert.equal(fatal.code, 1);
  assert.match(fatal.err, /BAD_ROOT/);
  fs.rmSync(base, { recursive: true, force: true });
});
