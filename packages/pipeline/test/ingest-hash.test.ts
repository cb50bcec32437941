import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import { listPatientFolders, sourceHash } from "../src/index.ts";
import { tmpDir } from "./ingest-helpers.ts";

test("sourceHash follows names, sizes and contents, not timestamps or hidden files", async () => {
  const d = tmpDir("hash-");
  fs.mkdirSync(path.join(d, "sub"));
  fs.writeFileSync(path.join(d, "a.dcm"), "aaaa");
  fs.writeFileSync(path.join(d, "sub", "b.dcm"), "bbbb");
  const h0 = await sourceHash(d);
  assert.equal(h0.files, 2);
  assert.equal(h0.bytes, 8);
  assert.match(h0.hash, /^sha256:[0-9a-f]{64}$/);
  fs.utimesSync(path.join(d, "a.dcm"), new Date(2000, 1, 1), new Date(2000, 1, 1));
  fs.writeFileSync(path.join(d, ".DS_Store"), "x");
  assert.equal((await sourceHash(d)).hash, h0.hash);
  fs.writeFileSync(path.join(d, "a.dcm"), "aaab"); // same size, other content
  const h1 = await sourceHash(d);
  assert.notEqual(h1.hash, h0.hash);
  fs.writeFileSync(path.join(d, "a.dcm"), "aaaa");
  assert.equal((await sourceHash(d)).hash, h0.hash);
  fs.renameSync(path.join(d, "sub", "b.dcm"), path.join(d, "sub", "c.dcm"));
  assert.notEqual((await sourceHash(d)).hash, h0.hash);
  fs.renameSync(path.join(d, "sub", "c.dcm"), path.join(d, "sub", "b.dcm"));
  fs.writeFileSync(path.join(d, "extra.dcm"), "");
  assert.notEqual((await sourceHash(d)).hash, h0.hash);
});

test("patient folders: sub-folders sorted, files and hidden folders ignored", async () => {
  const d = tmpDir("folders-");
  for (const n of ["b", "a", ".hidden", "c"]) fs.mkdirSync(path.join(d, n));
  fs.writeFileSync(path.join(d, "stage1_labels.csv"), "id,cancer\n");
  assert.deepEqual(
    (await listPatientFolders(d)).map((f) => f.id),
    ["a", "b", "c"],
  );
  await assert.rejects(
    listPatientFolders(path.join(d, "none")),
    (e: Error & { code?: string }) => e.code === "BAD_ROOT",
  );
});
