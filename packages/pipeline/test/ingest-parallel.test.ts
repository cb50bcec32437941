import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { after, test } from "node:test";
import { writeCohort } from "@lungflow/phantom";
import { type IngestEvent, sourceHash } from "../src/index.ts";
import { GEOMETRY, runIngest, tmpDir } from "./ingest-helpers.ts";

const dir = tmpDir("ingest-parallel-");
after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Every file of a store under `patients/`, by relative path (bookkeeping folders left out). */
function storeFiles(root: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = path.join(rel, e.name);
      if (e.isDirectory()) walk(r);
      else out.set(r, fs.readFileSync(path.join(root, r)));
    }
  };
  walk("patients");
  return out;
}

/** A zarr.json without the one field that must differ between two runs (the ingest time). */
function withoutTime(json: Buffer): unknown {
  const j = JSON.parse(json.toString("utf8"));
  if (j.attributes?.ingestedAt) {
    assert.match(j.attributes.ingestedAt, /^\d{4}-/);
    delete j.attributes.ingestedAt;
  }
  return j;
}

const ingested = (events: IngestEvent[]) =>
  events.filter((e): e is Extract<IngestEvent, { type: "ingested" }> => e.type === "ingested");

test("helped (1 patient at a time, 2 threads) and unhelped (on the calling thread) stores are identical", async () => {
  const root = path.join(dir, "dicom");
  // Mixed encodings: explicit / implicit VR, int16 / uint16, slopes, padding, file names.
  await writeCohort({
    out: root,
    patients: 3,
    seed: 19,
    ...GEOMETRY,
    groundTruth: false,
    mixedEncodings: true,
  });
  const plain = path.join(dir, "plain.zarr");
  const helped = path.join(dir, "helped.zarr");
  const a = await runIngest({ root, store: plain, workers: 0 });
  const b = await runIngest({ root, store: helped, workers: 1, threads: 2 });
  assert.equal(ingested(a).length, 3);
  assert.equal(ingested(b).length, 3);
  for (const e of ingested(a)) assert.equal(e.helpedParts, 0);
  // Each patient posts 4 split jobs (read, histogram, resample, clean); the idle thread takes
  // some of their parts.
  const parts = ingested(b).reduce((n, e) => n + e.helpedParts, 0);
  assert.ok(parts > 0, "the second thread helped");
  // Same source hashes (computed while reading in both runs) as a separate pass gives.
  for (const e of ingested(b)) {
    assert.equal(e.sourceHash, (await sourceHash(path.join(root, e.id))).hash);
    assert.equal(ingested(a).find((x) => x.id === e.id)?.sourceHash, e.sourceHash);
  }
  const fa = storeFiles(plain);
  const fb = storeFiles(helped);
  assert.deepEqual([...fb.keys()].sort(), [...fa.keys()].sort());
  let chunks = 0;
  for (const [rel, bytes] of fa) {
    const other = fb.get(rel) as Buffer;
    if (rel.endsWith("zarr.json")) assert.deepEqual(withoutTime(other), withoutTime(bytes), rel);
    else {
      chunks++;
      assert.ok(other.equals(bytes), `${rel} differs`);
    }
  }
  assert.ok(chunks >= 6, `hu and mask chunks of 3 patients compared (${chunks})`);
});
