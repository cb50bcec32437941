import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { StoreError } from "./errors.js";
import { listDir, mkdirp, pidAlive, token } from "./fs-util.js";
import { isValidPatientId } from "./schema.js";
import { toWriteError, withWriteErrors } from "./write-failure.js";

/** Content of a claim file `<store>/.claims/<id>.claim`. */
export interface ClaimInfo {
  patientId: string;
  hostname: string;
  pid: number;
  /** Unique per claim: a renewal or release checks it is still its own claim. */
  token: string;
  purpose: string;
  acquiredAt: string;
  /** Epoch ms after which another writer may take the patient over. */
  expiresAt: number;
}

/** Options of {@link claimPatient}. */
export interface ClaimOptions {
  /**
   * Lease, ms (default 60 000). The holder renews it every third of that while it works; a
   * holder that stops renewing (killed, frozen, cut off) loses the patient once it runs out.
   * Hosts sharing a store need clocks that agree to well within the lease.
   */
  leaseMs?: number;
  /** How long to wait for a live holder to finish, ms (default 0: fail with `PATIENT_CLAIMED`). */
  waitMs?: number;
  /** What the claim is for (shown to whoever meets it). */
  purpose?: string;
  signal?: AbortSignal;
}

/** A held per-patient claim. `release()` is idempotent. */
export interface PatientClaim {
  readonly info: ClaimInfo;
  /** The claim of a dead or expired holder was taken over (its leftovers may remain). */
  readonly tookOver: ClaimInfo | undefined;
  /** Throws `CLAIM_LOST` if the lease ran out and another writer may hold the patient. */
  check(): Promise<void>;
  release(): Promise<void>;
}

export function claimsDir(root: string): string {
  return path.join(root, ".claims");
}

function claimFile(root: string, id: string): string {
  return path.join(claimsDir(root), `${id}.claim`);
}

async function readClaim(file: string): Promise<ClaimInfo | undefined> {
  try {
    return JSON.parse(await fs.readFile(file, "utf8")) as ClaimInfo;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    // Our writer links complete files in: unreadable content is damage, treat it as expired.
    return {
      patientId: "",
      hostname: "",
      pid: -1,
      token: "unreadable",
      purpose: "unreadable claim file",
      acquiredAt: "",
      expiresAt: 0,
    };
  }
}

/**
 * A claim is stale when its lease ran out, or at once when its holder ran on this host and
 * is gone (a SIGKILLed worker's patient need not wait for the lease).
 */
export function isStaleClaim(c: ClaimInfo, now = Date.now()): boolean {
  if (c.expiresAt <= now) return true;
  return c.hostname === os.hostname() && (c.pid <= 0 || !pidAlive(c.pid));
}

/**
 * Ids of the patients whose claim is live (not stale): their staging folders belong to a
 * writer at work and clean-ups must leave them alone.
 */
export async function liveClaimIds(root: string): Promise<Set<string>> {
  const out = new Set<string>();
  for (const e of await listDir(claimsDir(root))) {
    const m = /^(.+)\.claim$/.exec(e.name);
    if (!m) continue;
    const c = await readClaim(path.join(claimsDir(root), e.name));
    if (c && !isStaleClaim(c)) out.add(m[1]);
  }
  return out;
}

/**
 * Claims patient `id` of the store at `root` for writing: many writers (threads, processes,
 * hosts behind a job queue) may share a store, and two never write the same patient. The
 * claim file is written complete beside its target and hard-linked into place (exists only
 * with content); a stale claim (see {@link isStaleClaim}) is taken over, moved aside and
 * checked first so a fresh claim made meanwhile is never removed. Renewed every third of
 * the lease until released.
 *
 * @throws StoreError `PATIENT_CLAIMED` when a live holder keeps it past `waitMs`.
 */
export async function claimPatient(
  root: string,
  id: string,
  opts: ClaimOptions = {},
): Promise<PatientClaim> {
  if (!isValidPatientId(id))
    throw new StoreError("INVALID_PATIENT_ID", `invalid patient id "${id}"`, { patientId: id });
  const leaseMs = opts.leaseMs ?? 60_000;
  if (!(leaseMs >= 100))
    throw new StoreError("INVALID_ARGUMENT", `lease must be >= 100 ms, got ${leaseMs}`, {
      leaseMs,
    });
  const file = claimFile(root, id);
  const step = { store: root, writing: `the claim of patient ${id}`, path: file, patientId: id };
  const info: ClaimInfo = {
    patientId: id,
    hostname: os.hostname(),
    pid: process.pid,
    token: token(),
    purpose: opts.purpose ?? "write",
    acquiredAt: new Date().toISOString(),
    expiresAt: Date.now() + leaseMs,
  };
  const deadline = Date.now() + (opts.waitMs ?? 0);
  let tookOver: ClaimInfo | undefined;
  await withWriteErrors(step, () => mkdirp(claimsDir(root)));
  const tmp = `${file}.${info.token}.tmp`;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      info.expiresAt = Date.now() + leaseMs;
      await withWriteErrors(step, () => fs.writeFile(tmp, JSON.stringify(info)));
      try {
        await fs.link(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw await toWriteError(err, step);
      }
      const holder = await readClaim(file);
      if (holder && isStaleClaim(holder)) {
        if (await breakStale(file, holder)) tookOver = holder;
        continue;
      }
      if (Date.now() >= deadline) {
        throw new StoreError(
          "PATIENT_CLAIMED",
          `patient ${id} is being written by pid ${holder?.pid} on ${holder?.hostname} (${holder?.purpose}, lease until ${holder ? new Date(holder.expiresAt).toISOString() : "?"})`,
          { store: root, patientId: id, holder },
        );
      }
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
    }
  } finally {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
  }
  return heldClaim(root, file, info, leaseMs, tookOver);
}

function heldClaim(
  root: string,
  file: string,
  info: ClaimInfo,
  leaseMs: number,
  tookOver: ClaimInfo | undefined,
): PatientClaim {
  let lost = false;
  let released = false;
  const mine = async () => (await readClaim(file))?.token === info.token;
  const renew = async () => {
    if (released || lost) return;
    // Past the lease another writer may have taken over: renewing now could clobber its claim.
    if (info.expiresAt <= Date.now() || !(await mine())) {
      lost = true;
      return;
    }
    const next = { ...info, expiresAt: Date.now() + leaseMs };
    const tmp = `${file}.${info.token}-r.tmp`;
    try {
      await fs.writeFile(tmp, JSON.stringify(next));
      await fs.rename(tmp, file);
      info.expiresAt = next.expiresAt;
    } catch {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      // A failed renewal is retried at the next beat; the lease still covers us meanwhile.
    }
  };
  const timer = setInterval(() => void renew(), Math.max(50, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    info,
    tookOver,
    async check() {
      if (lost || info.expiresAt <= Date.now() || !(await mine())) {
        lost = true;
        throw new StoreError(
          "CLAIM_LOST",
          `the claim of patient ${info.patientId} ran out (lease until ${new Date(info.expiresAt).toISOString()}); another writer may hold it, nothing was moved in`,
          { store: root, patientId: info.patientId, claim: info },
        );
      }
    },
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      if (!lost && (await mine())) await fs.rm(file, { force: true });
    },
  };
}

/** Moves a stale claim aside; puts it back if it turns out not to be the stale one. */
async function breakStale(file: string, stale: ClaimInfo): Promise<boolean> {
  const aside = `${file}.stale.${token()}`;
  try {
    await fs.rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const moved = await readClaim(aside);
  if (moved && moved.token === stale.token) {
    await fs.rm(aside, { force: true });
    return true;
  }
  await fs.link(aside, file).catch(() => undefined); // a fresh claim came meanwhile: theirs stands
  await fs.rm(aside, { force: true });
  return false;
}

/**
 * Clean-up of `.claims` for `recover()`: stale claims (their writers are gone) and
 * temporary files of claims older than ten minutes. Live claims are kept.
 */
export async function recoverClaims(root: string): Promise<string[]> {
  const removed: string[] = [];
  const dir = claimsDir(root);
  for (const e of await listDir(dir)) {
    const p = path.join(dir, e.name);
    if (e.name.endsWith(".claim")) {
      const c = await readClaim(p);
      if (c && isStaleClaim(c) && (await breakStale(p, c)))
        removed.push(path.join(".claims", e.name));
    } else if (/\.tmp$|\.stale\./.test(e.name)) {
      const st = await fs.stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 600_000) {
        await fs.rm(p, { force: true });
        removed.push(path.join(".claims", e.name));
      }
    }
  }
  return removed;
}
