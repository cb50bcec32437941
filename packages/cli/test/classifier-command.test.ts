import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { buildGmcae, saveGmcae } from "@lungflow/gmcae";
import { openStore } from "@lungflow/patch-store";
import { makeVolume, mulberry32 } from "@lungflow/volume";
import { main } from "../src/program.ts";

const root = mkdtempSync(path.join(tmpdir(), "cli-cls-"));
after(() => rmSync(root, { recursive: true, force: true }));
const store = path.join(root, "s.zarr");
const gmcae = path.join(root, "gmcae");
const PARAMS = {
  spacing: [1, 1, 1] as [number, number, number],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};
const ids = ["p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7"];

before(async () => {
  process.env.LUNGFLOW_BACKEND = "cpu";
  const s = await openStore(store, { create: true, params: PARAMS });
  for (const [i, id] of ids.entries()) {
    const shape: [number, number, number] = [12 + (i % 3), 14, 13 + (i % 2)];
    const n = shape[0] * shape[1] * shape[2];
    const rnd = mulberry32(i + 1);
    const hu = new Int16Array(n).map(() => -900 + Math.round(rnd() * (i % 2 ? 900 : 200)));
    await s.writePatient({
      id,
      hu: makeVolume(hu, shape),
      mask: makeVolume(new Uint8Array(n).fill(1), shape),
      source: {
        bbox: [
          [0, shape[0]],
          [0, shape[1]],
          [0, shape[2]],
        ],
        sourceSpacing: [1, 1, 1],
        sourceShape: shape,
        otsuThreshold: -400,
        seriesInstanceUid: `1.2.${i}`,
        fileCount: shape[0],
        sourceHash: `h-${id}`,
        lungflowVersion: "0.1.0",
      },
      params: PARAMS,
    });
  }
  // six labelled (train / validation), two unlabelled (test)
  await s.importLabels(
    `id,cancer\n${ids
      .slice(0, 6)
      .map((id, i) => `${id},${i % 2}`)
      .join("\n")}\n`,
  );
  await s.makeSplit({ seed: 1, validationFraction: 0.34 });
  await saveGmcae(
    buildGmcae({ patchSize: 8, filters: [2, 3], m: 2, seed: 2 }),
    path.join(gmcae, "best"),
  );
});

async function run(...args: string[]): Promise<{ out: string; code: number }> {
  const lines: string[] = [];
  const log = console.log;
  const err = console.error;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  process.exitCode = 0;
  try {
    const code = await main(["node", "lungflow", ...args]);
    return { out: lines.join("\n"), code };
  } catch (e) {
    // bin.ts prints a thrown error and exits 1
    return { out: `${lines.join("\n")}\n${(e as Error).message}`, code: 1 };
  } finally {
    console.log = log;
    console.error = err;
    process.exitCode = 0;
  }
}

test("features, then train classifier on them, then predict with test-time augmentation", async () => {
  const f = await run("features", "--store", store, "--gmcae", gmcae, "--symmetries", "2");
  assert.equal(f.code, 0, f.out);
  const m =
    /features (enc-[0-9a-f]{16}): 16 array\(s\) written, 0 already stored, 0 patient\(s\) failed/.exec(
      f.out,
    );
  assert.ok(m, f.out);
  const again = await run("features", "--store", store, "--gmcae", gmcae, "--symmetries", "2");
  assert.match(again.out, /0 array\(s\) written, 16 already stored/);

  const out = path.join(root, "cls");
  const t = await run(
    "train",
    "classifier",
    "--store",
    store,
    "--gmcae",
    gmcae,
    "--out",
    out,
    "--symmetries",
    "2",
    "--epochs",
    "2",
    "--dense",
    "4",
  );
  assert.equal(t.code, 0, t.out);
  assert.match(t.out, /0 array\(s\) written, 16 already stored/);
  assert.match(t.out, new RegExp(`on stored features ${m[1]} \\(2 symmetries\\)`));
  const cfg = JSON.parse(readFileSync(path.join(out, "config.json"), "utf8"));
  // the default head standardises and convolves the density channel: it reads that channel,
  // stored alone beside the maps
  assert.deepEqual(cfg.features, { encoderId: m[1], symmetries: 2, densityId: `${m[1]}.density` });
  assert.equal(cfg.head.channels, "density");
  assert.equal(cfg.head.region, true);
  assert.ok(existsSync(path.join(out, "best", "model.json")));

  const csv = path.join(root, "sub.csv");
  const p = await run(
    "predict",
    "--store",
    store,
    "--model",
    out,
    "--split",
    "test",
    "--out",
    csv,
    "--tta",
    "2",
  );
  assert.equal(p.code, 0, p.out);
  const rows = readFileSync(csv, "utf8").trim().split("\n").slice(1);
  assert.deepEqual(rows.map((r) => r.split(",")[0]).sort(), ["p6", "p7"]);
  for (const r of rows) {
    const v = Number(r.split(",")[1]);
    assert.ok(v > 0 && v < 1, r);
  }
  // tta 1 differs from tta 2 (the second symmetry is averaged in), and both are deterministic
  const csv1 = path.join(root, "sub1.csv");
  await run(
    "predict",
    "--store",
    store,
    "--model",
    out,
    "--split",
    "test",
    "--out",
    csv1,
    "--tta",
    "1",
  );
  assert.notEqual(readFileSync(csv1, "utf8"), readFileSync(csv, "utf8"));

  // a head cannot be asked for symmetries its features lack without its GMCAE computing them
  const bad = await run(
    "train",
    "classifier",
    "--store",
    store,
    "--features",
    "enc-0000000000000000",
    "--out",
    path.join(root, "bad"),
    "--epochs",
    "1",
  );
  assert.equal(bad.code, 1);
  assert.match(bad.out, /NO_FEATURES|lack features/);
});
