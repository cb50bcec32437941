// Store writes on a real full, read-only or forbidden filesystem: a small tmpfs (mounted as
// root, as CI runs) and a child process running as an unprivileged user.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { isLungflowError, type LungflowError, type Vec3 } from "@lungflow/volume";
import { boundedQueue } from "../src/bounded-queue.ts";
import { openStore, StoreError } from "../src/index.ts";
import { toWriteError } from "../src/write-failure.ts";
import { featureData, PARAMS, source, tmpDir, volumes } from "./helpers.ts";
import { fill, leftovers, mountTmpfs, type Tmpfs } from "./tmpfs.ts";

const CHILD = fileURLToPath(new URL("./fixtures/write-as-user.ts", import.meta.url));

/** Runs `fn` on a fresh tmpfs of `bytes`, skipping (with the reason) where none can be mounted. */
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

function isCode(code: string) {
  return (e: unknown): e is LungflowError => isLungflowError(e, "StoreError") && e.code === code;
}

test("a full disk at every write step of a patient replacement: DISK_FULL naming the path and the free space, the old version kept, nothing left behind; with space the write completes", async (t) => {
  await onTmpfs(t, 1 << 20, async (m) => {
    const dir = path.join(m.dir, "s.zarr");
    const store = await openStore(dir, { create: true, params: PARAMS });
    const small: Vec3 = [8, 16, 16];
    const old = volumes(small, 1);
    await store.writePatient({ id: "p", ...old, source: source(small, "old"), params: PARAMS });
    // 16x16x32 in chunks of 8: 16 chunk files per array, each a page of the tmpfs.
    const big: Vec3 = [16, 16, 32];
    const next = volumes(big, 7);
    const failedAt = new Set<string>();
    let pages = 0;
    for (; pages < 200; pages++) {
      const filler = fill(m.dir, pages * 4096);
      let err: unknown;
      try {
        await store.writePatient(
          { id: "p", ...next, source: source(big, "new"), params: PARAMS },
          { chunk: 8 },
        );
      } catch (e) {
        err = e;
      }
      fs.rmSync(filler);
      if (err === undefined) break;
      assert.ok(isCode("DISK_FULL")(err), `${pages} pages free: ${err}`);
      const ctx = err.context as { path: string; store: string; freeBytes: number };
      assert.equal(ctx.store, dir);
      assert.ok(ctx.path.startsWith(dir), ctx.path);
      assert.equal(typeof ctx.freeBytes, "number");
      assert.match(err.message, /^disk full writing patient p \(hu, mask, metadata\) to \//);
      assert.match(err.message, /free on the filesystem of store/);
      assert.ok(err.message.includes(dir));
      failedAt.add(path.relative(dir, ctx.path).replace(/~[^/]+/, "~<token>"));
      assert.deepEqual(leftovers(dir), [], `${pages} pages free`);
      assert.deepEqual(await store.listPatients(), ["p"]);
      assert.equal((await store.getPatient("p"))?.sourceHash, "old");
      assert.deepEqual((await store.readVolume("p", "hu")).data, old.hu.data);
    }
    t.diagnostic(`failed with 0..${pages - 1} pages free at ${failedAt.size} distinct paths`);
    // It failed at many different files (chunks of both arrays, metadata), then succeeded.
    assert.ok(pages >= 32 && pages < 200, `succeeded with ${pages} pages free`);
    assert.ok(failedAt.size >= 20, `${failedAt.size} distinct failing paths`);
    assert.ok([...failedAt].some((p) => /\/mask\/c\//.test(p)));
    assert.ok([...failedAt].some((p) => /zarr\.json$/.test(p)));
    assert.equal((await store.getPatient("p"))?.sourceHash, "new");
    assert.deepEqual((await store.readVolume("p", "hu")).data, next.hu.data);
    assert.deepEqual(leftovers(dir), []);
    assert.ok((await store.verify()).ok);
  });
});

test("a store created on a full disk is removed, not left half-made; the next run creates it; a half-made one left by a kill is finished", async (t) => {
  await onTmpfs(t, 256 << 10, async (m) => {
    const filler = fill(m.dir);
    const dir = path.join(m.dir, "a", "b", "s.zarr");
    await assert.rejects(openStore(dir, { create: true, params: PARAMS }), (e) => {
      assert.ok(isCode("DISK_FULL")(e), String(e));
      assert.equal(e.context.store, dir);
      assert.equal(e.context.freeBytes, 0);
      assert.match(e.message, /disk full writing a new store to .*\(0 bytes free/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(m.dir), ["filler"]); // a/b/s.zarr made and removed
    fs.rmSync(filler);
    const store = await openStore(dir, { create: true, params: PARAMS });
    assert.deepEqual(await store.listPatients(), []);

    // A kill between patients/zarr.json and the root zarr.json: the next creation finishes.
    const half = path.join(m.dir, "half.zarr");
    fs.mkdirSync(path.join(half, "patients"), { recursive: true });
    fs.writeFileSync(path.join(half, "patients", "zarr.json"), "{}");
    fs.writeFileSync(path.join(half, ".zarr.json.123.create.tmp"), "{");
    const finished = await openStore(half, { create: true, params: PARAMS });
    assert.deepEqual(finished.params, PARAMS);
    // A folder holding anything else is still refused.
    const other = path.join(m.dir, "other");
    fs.mkdirSync(path.join(other, "patients", "x"), { recursive: true });
    await assert.rejects(
      openStore(other, { create: true, params: PARAMS }),
      isCode("STORE_INVALID"),
    );
  });
});

test("lock, labels and features on a full disk: DISK_FULL, no temporary file, nothing changed", async (t) => {
  await onTmpfs(t, 512 << 10, async (m) => {
    const dir = path.join(m.dir, "s.zarr");
    const store = await openStore(dir, { create: true, params: PARAMS });
    const shape: Vec3 = [4, 8, 8];
    await store.writePatient({ id: "p", ...volumes(shape), source: source(shape), params: PARAMS });
    let filler = fill(m.dir);
    await assert.rejects(store.lock(), (e) => {
      assert.ok(isCode("DISK_FULL")(e), String(e));
      assert.match(
        e.message,
        /disk full writing the store lock to \/.*\/s\.zarr\/\.lock \(0 bytes free/,
      );
      return true;
    });
    assert.deepEqual(leftovers(dir), []); // no .lock.<pid>-<token>.tmp
    fs.rmSync(filler);

    const lock = await store.lock();
    filler = fill(m.dir);
    await assert.rejects(store.importLabels("id,cancer\np,1\n"), (e) => {
      assert.ok(isCode("DISK_FULL")(e), String(e));
      assert.match(e.message, /root metadata/);
      return true;
    });
    await assert.rejects(
      store.writeFeatures("p", "enc", 0, featureData([2, 4, 4, 8])),
      (e) => isCode("DISK_FULL")(e) && /features enc\/s0 of patient p/.test(e.message),
    );
    await lock.release(); // removing needs no space
    assert.deepEqual(leftovers(dir), []);
    fs.rmSync(filler);
    await store.refresh();
    assert.deepEqual(store.rootAttrs.labels, {});
    assert.deepEqual(await store.listFeatures("p"), []);
    assert.ok((await store.verify()).ok);
    const r = await store.importLabels("id,cancer\np,1\n");
    assert.equal(r.changed, 1);
  });
});

test("a read-only filesystem: READ_ONLY_FS for every write, reads still work", async (t) => {
  await onTmpfs(t, 512 << 10, async (m) => {
    const dir = path.join(m.dir, "s.zarr");
    const store = await openStore(dir, { create: true, params: PARAMS });
    const shape: Vec3 = [4, 8, 8];
    const v = volumes(shape);
    await store.writePatient({ id: "p", ...v, source: source(shape), params: PARAMS });
    m.remount("ro");
    try {
      const ro = isCode("READ_ONLY_FS");
      await assert.rejects(store.lock(), ro);
      await assert.rejects(
        store.writePatient({ id: "q", ...v, source: source(shape), params: PARAMS }),
        (e) => ro(e) && /remount it read-write/.test(e.message) && e.context.patientId === "q",
      );
      await assert.rejects(
        openStore(path.join(m.dir, "new.zarr"), { create: true, params: PARAMS }),
        ro,
      );
      assert.deepEqual((await store.readVolume("p", "hu")).data, v.hu.data);
    } finally {
      m.remount("rw");
    }
    assert.deepEqual(leftovers(dir), []);
  });
});

test("no write permission: PERMISSION_DENIED naming the path (as an unprivileged user)", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("switching to an unprivileged user needs root (CI runs as root)");
    return;
  }
  const root = tmpDir("ps-perm-");
  fs.chmodSync(root, 0o755);
  const dir = path.join(root, "s.zarr");
  const store = await openStore(dir, { create: true, params: PARAMS });
  const shape: Vec3 = [4, 8, 8];
  await store.writePatient({ id: "p", ...volumes(shape), source: source(shape), params: PARAMS });
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", CHILD, dir, path.join(root, "new.zarr")],
    { encoding: "utf8", uid: 65534, gid: 65534, cwd: path.dirname(CHILD), timeout: 30_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const rows = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { step: string; code: string; message?: string });
  assert.deepEqual(
    rows.map((x) => `${x.step}:${x.code}`),
    [
      "create:PERMISSION_DENIED",
      "read:OK",
      "lock:PERMISSION_DENIED",
      "writePatient:PERMISSION_DENIED",
    ],
  );
  assert.match(rows[3].message ?? "", /permission denied writing patient q .* uid 65534/);
  assert.deepEqual(fs.readdirSync(root).sort(), ["s.zarr"]);
  assert.deepEqual(leftovers(dir), []);
  fs.rmSync(root, { recursive: true, force: true });
});

test("chunk write queue: after a failure no write starts, and it rejects once the running ones settled", async () => {
  const queue = boundedQueue(2)();
  const started: number[] = [];
  let running = 0;
  let settledBeforeReject = true;
  for (let i = 0; i < 6; i++) {
    queue.add(async () => {
      started.push(i);
      running++;
      await new Promise((r) => setTimeout(r, i === 0 ? 5 : 30));
      running--;
      if (i === 0) throw new Error("ENOSPC at chunk 0");
    });
  }
  await assert.rejects(
    queue.onIdle().finally(() => {
      settledBeforeReject = running === 0;
    }),
    /ENOSPC at chunk 0/,
  );
  // 0 and 1 ran at once; 0 failed, so 2 (which took 0's slot) and the rest never started.
  assert.deepEqual(started, [0, 1]);
  assert.ok(settledBeforeReject, "rejected while a write was still running");
});

test("toWriteError: each errno to its code, naming the path; anything not an I/O error passes unchanged", async () => {
  const errno = (code: string, syscall = "write", p?: string) =>
    Object.assign(new Error(`${code}: test`), { code, syscall, ...(p ? { path: p } : {}) });
  const step = {
    store: "/s.zarr",
    writing: "patient p",
    path: "/s.zarr/patients/p",
    patientId: "p",
  };
  const codes: Record<string, string> = {
    ENOSPC: "DISK_FULL",
    EDQUOT: "DISK_FULL",
    EACCES: "PERMISSION_DENIED",
    EPERM: "PERMISSION_DENIED",
    EROFS: "READ_ONLY_FS",
    EIO: "WRITE_FAILED",
    EMFILE: "WRITE_FAILED",
  };
  for (const [from, to] of Object.entries(codes)) {
    const e = await toWriteError(errno(from, "open", "/s.zarr/x"), step);
    assert.ok(isLungflowError(e, "StoreError"), from);
    assert.equal(e.code, to, from);
    assert.equal(e.context.path, "/s.zarr/x");
    assert.equal(e.context.errno, from);
    assert.equal(e.context.patientId, "p");
    assert.ok(e.message.includes("patient p") && e.message.includes("/s.zarr"), e.message);
  }
  // A failed `write` names no file: the step's path stands in.
  const noPath = await toWriteError(errno("EIO"), step);
  assert.ok(isLungflowError(noPath) && noPath.context.path === "/s.zarr/patients/p");
  assert.match(
    ((await toWriteError(errno("EDQUOT"), step)) as Error).message,
    /^disk quota exceeded/,
  );
  // A bug, a typed error or a non-Error value are not relabelled as I/O failures.
  const bug = new RangeError("Invalid typed array length");
  assert.equal(await toWriteError(bug, step), bug);
  const typed = new StoreError("INVALID_ARGUMENT", "bad");
  assert.equal(await toWriteError(typed, step), typed);
  assert.equal(await toWriteError("boom", step), "boom");
});
