// `lungflow ingest` and `lungflow store` on a store whose filesystem is full or read-only (a
// small tmpfs, mounted as root as CI runs): a typed message naming the command and the code,
// exit 1, and a run that completes once space is freed.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, test } from "node:test";
import { writeCohort } from "@lungflow/phantom";
import { Command } from "commander";
import { registerIngest } from "../src/commands/ingest.ts";
import { registerStore } from "../src/commands/store.ts";

const base = fs.mkdtempSync(path.join(tmpdir(), "cli-diskfull-"));
const mnt = path.join(base, "mnt");
let mounted = false;
after(() => {
  if (mounted) execFileSync("umount", [mnt]);
  fs.rmSync(base, { recursive: true, force: true });
});

function mount(): string | undefined {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root (CI runs as root)";
  fs.mkdirSync(mnt);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt], { stdio: "pipe" });
  } catch (err) {
    return `cannot mount a tmpfs here: ${(err as Error).message.split("\n")[0]}`;
  }
  mounted = true;
  return undefined;
}

function freeBytes(dir: string): number {
  const s = fs.statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Fills the tmpfs until `leave` bytes stay free; returns the filler file. */
function fill(leave = 0): string {
  const file = path.join(mnt, "filler");
  const fd = fs.openSync(file, "a");
  try {
    while (freeBytes(mnt) > leave) fs.writeSync(fd, Buffer.alloc(4096, 1));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Runs `lungflow ...args`, capturing output lines and the exit code. */
async function run(...args: string[]): Promise<{ out: string[]; code: number }> {
  const program = new Command("lungflow").exitOverride();
  registerIngest(program);
  registerStore(program);
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  process.exitCode = 0;
  try {
    await program.parseAsync(["node", "lungflow", ...args]);
  } finally {
    console.log = log;
    console.error = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, code };
}

test("ingest on a disk that fills, is full, or is read-only: CODE messages, exit 1, then a run that completes", async (t) => {
  const why = mount();
  if (why) {
    t.skip(why);
    return;
  }
  const dicom = path.join(base, "dicom");
  const geometry = { matrix: 128, slices: 40, pixelSpacing: 0.9, sliceSpacing: 2.5 };
  await writeCohort({ out: dicom, patients: 3, seed: 4, ...geometry, groundTruth: false });
  const ids = fs
    .readdirSync(dicom, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const labels = path.join(dicom, "stage1_labels.csv");
  const one = path.join(base, "one");
  fs.cpSync(path.join(dicom, ids[0]), path.join(one, ids[0]), { recursive: true });
  const store = path.join(mnt, "s.zarr");
  const before = freeBytes(mnt);
  assert.equal((await run("ingest", one, "--store", store, "--workers", "1")).code, 0);
  const perPatient = before - freeBytes(mnt);

  // Room for half a patient: the second fails, the third never starts.
  let filler = fill(Math.round(0.5 * perPatient));
  const report = path.join(base, "report.json");
  const r = await run(
    "ingest",
    dicom,
    "--store",
    store,
    "--workers",
    "1",
    "--labels",
    labels,
    "--report",
    report,
  );
  const text = r.out.join("\n");
  assert.equal(r.code, 1, text);
  assert.ok(
    r.out.some((l) =>
      l.startsWith(`FAILED    ${ids[1]} at write: DISK_FULL: disk full writing patient ${ids[1]}`),
    ),
    text,
  );
  assert.ok(
    r.out.includes(
      "stopping: DISK_FULL: the store cannot be written; patients in flight finish, no other starts",
    ),
    text,
  );
  const lines = text.split("\n");
  assert.ok(
    lines.includes(`stopped by DISK_FULL at patient ${ids[1]}; not started: ${ids[2]}`),
    text,
  );
  assert.ok(r.out.includes(`labels from ${labels} not imported`), text);
  assert.doesNotMatch(text, /INTERNAL|ENOSPC: no space left on device, write$/m);
  const saved = JSON.parse(fs.readFileSync(report, "utf8"));
  assert.deepEqual(saved.summary.notStartedIds, [ids[2]]);
  assert.equal(saved.summary.halted.code, "DISK_FULL");

  // Nothing free: a new store cannot even be created, and is not left half-made.
  fs.rmSync(filler);
  filler = fill(0);
  const r2 = await run("ingest", dicom, "--store", path.join(mnt, "new.zarr"), "--workers", "1");
  assert.equal(r2.code, 1);
  assert.match(
    r2.out.join("\n"),
    /^lungflow ingest: DISK_FULL: disk full writing a new store to \/.*new\.zarr\/.* \(0 bytes free/m,
  );
  assert.ok(!fs.existsSync(path.join(mnt, "new.zarr")));
  const r3 = await run("store", "labels", store, labels);
  assert.equal(r3.code, 1);
  assert.match(
    r3.out.join("\n"),
    /^lungflow store labels: DISK_FULL: disk full writing the store lock/m,
  );

  // Space freed: the same command completes.
  fs.rmSync(filler);
  const r4 = await run("ingest", dicom, "--store", store, "--workers", "1", "--labels", labels);
  assert.equal(r4.code, 0, r4.out.join("\n"));
  assert.match(r4.out.join("\n"), /^2 ingested \(0 replaced\), 1 unchanged, 0 failed of 3 in /m);

  // Read-only: every writing command says so.
  execFileSync("mount", ["-o", "remount,ro", mnt]);
  try {
    const r5 = await run("store", "split", store);
    assert.equal(r5.code, 1);
    assert.match(
      r5.out.join("\n"),
      /^lungflow store split: READ_ONLY_FS: read-only filesystem: cannot write the store lock/m,
    );
    const r6 = await run("ingest", dicom, "--store", store, "--force");
    assert.equal(r6.code, 1);
    assert.match(r6.out.join("\n"), /^lungflow ingest: READ_ONLY_FS: /m);
    assert.equal((await run("store", "ls", store)).code, 0);
  } finally {
    execFileSync("mount", ["-o", "remount,rw", mnt]);
  }
});
