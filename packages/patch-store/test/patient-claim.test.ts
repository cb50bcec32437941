import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import { isLungflowError, type Vec3 } from "@lungflow/volume";
import { openStore } from "../src/index.ts";
import { PARAMS, source, tmpDir, volumes } from "./helpers.ts";

const claimFile = (store: string, id: string) => path.join(store, ".claims", `${id}.claim`);

test("a patient has one writer at a time: a second claim is refused (or waits), a released one is free", async () => {
  const store = await openStore(path.join(tmpDir(), "s.zarr"), { create: true, params: PARAMS });
  const a = await store.claimPatient("p1", { leaseMs: 5000, purpose: "test a" });
  await assert.rejects(
    store.claimPatient("p1", { leaseMs: 5000 }),
    (e) => isLungflowError(e, "StoreError") && e.code === "PATIENT_CLAIMED",
  );
  // Another patient is not blocked.
  const other = await store.claimPatient("p2");
  await other.release();
  // A waiting claim gets it once the holder releases.
  const waiting = store.claimPatient("p1", { waitMs: 3000 });
  setTimeout(() => void a.release(), 150);
  const b = await waiting;
  assert.equal(b.tookOver, undefined);
  await b.release();
  await b.release(); // idempotent
  assert.equal(fs.existsSync(claimFile(store.root, "p1")), false);
});

test("a claim whose lease ran out, or whose holder on this host died, is taken over", async () => {
  const store = await openStore(path.join(tmpDir(), "s.zarr"), { create: true, params: PARAMS });
  const a = await store.claimPatient("p1", { leaseMs: 5000 });
  // Freeze a's renewals by ending its lease in the file (as a holder frozen past its lease).
  const info = { ...a.info, expiresAt: Date.now() - 1 };
  fs.writeFileSync(claimFile(store.root, "p1"), JSON.stringify(info));
  const b = await store.claimPatient("p1", { leaseMs: 5000 });
  assert.equal(b.tookOver?.token, a.info.token);
  await assert.rejects(
    a.check(),
    (e) => isLungflowError(e, "StoreError") && e.code === "CLAIM_LOST",
  );
  await a.release(); // must not remove b's claim
  assert.ok(fs.existsSync(claimFile(store.root, "p1")));
  await b.release();

  // A dead pid on this host: taken over at once, lease or not.
  const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  const deadPid = Number(dead.stdout.toString());
  fs.writeFileSync(
    claimFile(store.root, "p1"),
    JSON.stringify({ ...b.info, pid: deadPid, token: "dead", expiresAt: Date.now() + 60_000 }),
  );
  const c = await store.claimPatient("p1");
  assert.equal(c.tookOver?.pid, deadPid);
  await c.release();
  // A live holder on another host keeps it until its lease ends.
  fs.writeFileSync(
    claimFile(store.root, "p1"),
    JSON.stringify({ ...b.info, hostname: `not-${os.hostname()}`, token: "remote" }),
  );
  await assert.rejects(store.claimPatient("p1"), /PATIENT_CLAIMED|being written/);
});

test("a writer whose claim ran out moves nothing in; recover() leaves a live writer's staging alone", async () => {
  const store = await openStore(path.join(tmpDir(), "s.zarr"), { create: true, params: PARAMS });
  const shape: Vec3 = [9, 10, 11];
  const { hu, mask } = volumes(shape);
  const input = { id: "p1", hu, mask, source: source(shape), params: PARAMS };
  const claim = await store.claimPatient("p1", { leaseMs: 5000 });
  fs.writeFileSync(claimFile(store.root, "p1"), JSON.stringify({ ...claim.info, token: "x" }));
  await assert.rejects(
    store.writePatient(input, { claim }),
    (e) => isLungflowError(e, "StoreError") && e.code === "CLAIM_LOST",
  );
  assert.deepEqual(await store.listPatients(), []);
  assert.deepEqual(await store.leftovers(), []); // its staging folder was removed
  fs.rmSync(claimFile(store.root, "p1"));

  // Another writer's work in progress (p2, claimed) and a dead writer's (p3, unclaimed).
  const live = await store.claimPatient("p2", { leaseMs: 5000 });
  fs.mkdirSync(path.join(store.root, ".staging", "p2~123-abcd"), { recursive: true });
  fs.mkdirSync(path.join(store.root, ".staging", "p3~456-abcd"), { recursive: true });
  const l = await store.lock();
  const r = await store.recover();
  await l.release();
  assert.deepEqual(r.removed, [path.join(".staging", "p3~456-abcd")]);
  assert.deepEqual(await store.leftovers(), [path.join(".staging", "p2~123-abcd")]);
  await store.writePatient({ ...input, id: "p2" }, { claim: live });
  await live.release();
  assert.deepEqual(await store.listPatients(), ["p2"]);
});
