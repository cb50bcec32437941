import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { openStore } from "@lungflow/patch-store";
import { makeVolume } from "@lungflow/volume";
import { Command } from "commander";
import { registerStore } from "../src/commands/store.ts";

const root = mkdtempSync(path.join(tmpdir(), "cli-store-"));
after(() => rmSync(root, { recursive: true, force: true }));
const storePath = path.join(root, "s.zarr");
const PARAMS = {
  spacing: [1, 1, 1] as [number, number, number],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};

before(async () => {
  const store = await openStore(storePath, { create: true, params: PARAMS });
  const shape: [number, number, number] = [4, 5, 6];
  for (const id of ["a", "b"]) {
    await store.writePatient({
      id,
      hu: makeVolume(new Int16Array(120).fill(-700), shape, [1, 1, 1], [0, 0, 0]),
      mask: makeVolume(new Uint8Array(120).fill(1), shape, [1, 1, 1], [0, 0, 0]),
      source: {
        bbox: [
          [0, 4],
          [0, 5],
          [0, 6],
        ],
        sourceSpacing: [1, 1, 1],
        sourceShape: [4, 5, 6],
        otsuThreshold: -400,
        seriesInstanceUid: `1.2.${id}`,
        fileCount: 4,
        sourceHash: `h-${id}`,
        lungflowVersion: "0.1.0",
      },
      params: PARAMS,
    });
  }
  const f = { data: new Float32Array(2 * 2 * 3 * 4).map((_, i) => i / 7), shape: [2, 2, 3, 4] };
  for (const k of [0, 1, 2, 5])
    await store.writeFeatures("a", "enc-1", k, f as never, { stride: 2 });
  await store.writeFeatures("b", "enc-1", 1, f as never, { stride: 2 });
});

/** Runs `lungflow store ...args`, capturing output lines and the exit code. */
async function run(...args: string[]): Promise<{ out: string[]; code: number }> {
  const program = new Command("lungflow").exitOverride();
  registerStore(program);
  const out: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => out.push(a.join(" "));
  process.exitCode = 0;
  try {
    await program.parseAsync(["node", "lungflow", "store", ...args]);
  } finally {
    console.log = log;
    console.error = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = 0;
  return { out, code };
}

test("store info lists the feature sets (encoder, patients, arrays, symmetries)", async () => {
  const { out, code } = await run("info", storePath);
  assert.equal(code, 0);
  assert.ok(
    out.includes(
      "features    enc-1: 2 patient(s), 5 array(s), symmetries 0-2,5 (0 patient(s) with all 48)",
    ),
    out.join("\n"),
  );
  const json = JSON.parse((await run("info", storePath, "--json")).out[0]);
  assert.deepEqual(json.features, [
    { encoderId: "enc-1", patients: 2, arrays: 5, complete: 0, symmetries: [0, 1, 2, 5] },
  ]);
});

test("store verify counts feature arrays and names a corrupt one; exit 2", async () => {
  const ok = await run("verify", storePath);
  assert.equal(ok.code, 0);
  assert.match(
    ok.out.at(-1)!,
    /^OK: 2 patient\(s\), .*, 5 feature array\(s\) in 2 patient\/encoder set\(s\) \(5 chunk\(s\), .*\), 0 problem\(s\)$/,
  );
  const chunk = path.join(storePath, "patients/a/features/enc-1/s2/c/0/0/0/0");
  const buf = readFileSync(chunk);
  buf[buf.length >> 1] ^= 0x40;
  writeFileSync(chunk, buf);
  const bad = await run("verify", storePath);
  assert.equal(bad.code, 2);
  assert.ok(
    bad.out.some((l) =>
      /^CORRUPT a CHUNK_DECODE: features\/enc-1\/s2: chunk .*s2\/c\/0\/0\/0\/0/.test(l),
    ),
    bad.out.join("\n"),
  );
  assert.match(bad.out.at(-1)!, /^CORRUPT: .* 1 problem\(s\)$/);
});
