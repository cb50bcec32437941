// Ingest onto a store on a real small filesystem (a tmpfs, mounted as root as CI runs) that
// fills up, is full from the start, or is read-only.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { openStore } from "@lungflow/patch-store";
import { isLungflowError } from "@lungflow/volume";
import { from } from "rxjs";
import { byType, cohort, runIngest, tmpDir } from "./ingest-helpers.ts";
import { fill, freeBytes, leftovers, mountTmpfs, type Tmpfs } from "./ingest-tmpfs.ts";

async function onTmpfs(
  t: { skip(msg: string): void },
  bytes: number,
  fn: (m: Tmpfs) => Promise<void>,
): Promise<void> {
  const m = mountTmpfs(bytes);
  if ("skip" in m) {
    t.skip(m.skip);
    return;
  }
  try {
    await fn(m);
  } finally {
    m.unmount();
  }
}

/** A cohort of `n` phantom patients in a fresh folder; ids sorted. */
async function dicom(n: number): Promise<{ root: string; ids: string[]; labels: string }> {
  const root = path.join(tmpDir(), "dicom");
  await cohort(root, n, 11);
  const ids = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  return { root, ids, labels: path.join(root, "stage1_labels.csv") };
}

test("the disk fills during a batch: DISK_FULL for that patient, the run halts, the rest are listed as not started, nothing is left behind; after space is freed a re-run completes", async (t) => {
  const { root, ids, labels } = await dicom(4);
  await onTmpfs(t, 16 << 20, async (m) => {
    const store = path.join(m.dir, "s.zarr");
    // One patient first, to learn how much a patient takes; then leave room for 1.5 more.
    const before = freeBytes(m.dir);
    const first = await runIngest({
      root,
      store,
      workers: 0,
      folders: from([{ id: ids[0], dir: path.join(root, ids[0]) }]),
    });
    assert.deepEqual(byType(first, "ingested"), [ids[0]]);
    const perPatient = before - freeBytes(m.dir);
    const filler = fill(m.dir, Math.round(1.5 * perPatient));

    const ev = await runIngest({ root, store, workers: 1, labels });
    assert.deepEqual(byType(ev, "skipped"), [ids[0]]);
    assert.deepEqual(byType(ev, "ingested"), [ids[1]]);
    const failed = ev.find((e) => e.type === "failed");
    assert.ok(failed?.type === "failed");
    assert.equal(failed.id, ids[2]);
    assert.equal(failed.stage, "write");
    assert.equal(failed.error.tag, "StoreError");
    assert.equal(failed.error.code, "DISK_FULL");
    assert.match(failed.error.message, new RegExp(`^disk full writing patient ${ids[2]} `));
    assert.ok(failed.error.message.includes(store));
    assert.equal(typeof failed.error.context.freeBytes, "number");
    assert.equal(failed.error.context.store, store);
    const halted = ev.find((e) => e.type === "halted");
    assert.deepEqual(halted, {
      type: "halted",
      id: ids[2],
      code: "DISK_FULL",
      message: failed.error.message,
    });
    assert.equal(ev.filter((e) => e.type === "labels").length, 0); // not written on a full disk
    const fin = ev.at(-1);
    assert.ok(fin?.type === "finished");
    const s = fin.summary;
    assert.deepEqual(
      [s.ingested, s.skipped, s.failed, s.notStarted, s.stopped],
      [1, 1, 1, 1, true],
    );
    assert.deepEqual(s.notStartedIds, ids.slice(3));
    assert.equal(s.halted?.code, "DISK_FULL");
    assert.deepEqual(leftovers(store), []);
    const st = await openStore(store);
    assert.deepEqual(await st.listPatients(), ids.slice(0, 2));
    assert.ok((await st.verify()).ok);

    fs.rmSync(filler);
    const again = await runIngest({ root, store, workers: 1, labels });
    assert.deepEqual(byType(again, "skipped"), ids.slice(0, 2));
    assert.deepEqual(byType(again, "ingested"), ids.slice(2));
    assert.equal(again.filter((e) => e.type === "labels").length, 1);
    const fin2 = again.at(-1);
    assert.ok(fin2?.type === "finished" && fin2.summary.failed === 0 && !fin2.summary.stopped);
    assert.deepEqual(leftovers(store), []);
  });
});

test("a store on a full or read-only disk: the run fails with DISK_FULL / READ_ONLY_FS and leaves no half-made store; after space is freed it runs", async (t) => {
  const { root, ids } = await dicom(1);
  await onTmpfs(t, 2 << 20, async (m) => {
    const store = path.join(m.dir, "s.zarr");
    const filler = fill(m.dir);
    await assert.rejects(runIngest({ root, store, workers: 0 }), (e) => {
      assert.ok(isLungflowError(e, "StoreError") && e.code === "DISK_FULL", String(e));
      assert.equal(e.context.store, store);
      assert.match(e.message, /disk full writing a new store to .*\(0 bytes free/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(m.dir), ["filler"]); // no half-made s.zarr to refuse later
    fs.rmSync(filler);
    const ev = await runIngest({ root, store, workers: 0 });
    assert.deepEqual(byType(ev, "ingested"), ids);

    m.remount("ro");
    try {
      await assert.rejects(
        runIngest({ root, store, workers: 0, force: true }),
        (e) => isLungflowError(e, "StoreError") && e.code === "READ_ONLY_FS",
      );
    } finally {
      m.remount("rw");
    }
    assert.deepEqual(leftovers(store), []);
    assert.ok((await (await openStore(store)).verify()).ok);
  });
});
