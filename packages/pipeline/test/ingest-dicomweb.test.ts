import assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import { after, test } from "node:test";
import { openStore } from "@lungflow/patch-store";
import { isLungflowError } from "@lungflow/volume";
import { type IngestEvent, ingest } from "../src/index.ts";
import { cohort, runIngest, tmpDir } from "./ingest-helpers.ts";
import { orthancMissing, startOrthanc, type TestOrthanc } from "./orthanc-server.ts";
import { freePort } from "./redis-server.ts";

const skip = orthancMissing();
let orthanc: TestOrthanc | undefined;
let proxy: http.Server | undefined;
after(async () => {
  proxy?.close();
  await orthanc?.stop();
});

function ids(ev: IngestEvent[], type: IngestEvent["type"]): string[] {
  return ev
    .filter((e) => e.type === type)
    .map((e) => (e as { id: string }).id)
    .sort();
}

/** Forwards to Orthanc, but cuts the WADO-RS body of series under `cutStudy` in half. */
async function cuttingProxy(target: string, cutStudy: () => string): Promise<string> {
  const port = await freePort();
  proxy = http.createServer(async (req, res) => {
    const r = await fetch(`${target}${req.url}`, { headers: { accept: req.headers.accept ?? "" } });
    const body = Buffer.from(await r.arrayBuffer());
    const cut =
      req.url?.includes(`/studies/${cutStudy()}/series/`) && !req.url.includes("instances");
    res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "" });
    res.end(cut ? body.subarray(0, body.length >> 1) : body);
  });
  await new Promise<void>((r) => proxy?.listen(port, "127.0.0.1", r));
  return `http://127.0.0.1:${port}/dicom-web`;
}

test("DICOMweb: ingest from a real Orthanc, then only what is new; same arrays as a folder ingest; typed errors, the batch goes on", {
  skip,
  timeout: 120_000,
}, async (tc) => {
  orthanc = await startOrthanc();
  const base = tmpDir("ingest-web-");
  const root = path.join(base, "dicom");
  const c = await cohort(root, 3, 41);
  const all = c.patients.map((p) => p.patientId).sort();
  const [p1, p2, p3] = all;
  for (const id of [p1, p2]) await orthanc.upload(path.join(root, id));
  const web = path.join(base, "web.zarr");
  const src = `dicomweb+${orthanc.dicomweb}`;

  const ev1 = await runIngest({ root: src, store: web, workers: 1 });
  assert.deepEqual(
    ids(ev1, "ingested"),
    [p1, p2],
    JSON.stringify(ev1.filter((e) => e.type === "failed")),
  );

  // A third patient arrives: only it is fetched; the others are skipped on their QIDO listing.
  await orthanc.upload(path.join(root, p3));
  const ev2 = await runIngest({ root: src, store: web, workers: 1 });
  assert.deepEqual(ids(ev2, "ingested"), [p3]);
  assert.deepEqual(ids(ev2, "skipped"), [p1, p2]);
  for (const e of ev2) if (e.type === "skipped") assert.equal(e.dicomBytes, 0); // nothing fetched
  assert.deepEqual(ids(ev2, "started"), [p3]);

  // The same files ingested from the folder give the same arrays and attributes.
  const folder = path.join(base, "folder.zarr");
  await runIngest({ root, store: folder, workers: 1 });
  const a = await openStore(web);
  const b = await openStore(folder);
  assert.deepEqual(await a.listPatients(), all);
  for (const id of all) {
    for (const arr of ["hu", "mask"] as const) {
      const va = await a.readVolume(id, arr);
      const vb = await b.readVolume(id, arr);
      assert.deepEqual(va.shape, vb.shape);
      assert.ok(Buffer.from(va.data.buffer).equals(Buffer.from(vb.data.buffer)), `${id} ${arr}`);
    }
    const { ingestedAt: _a, sourceHash: ha, ...ra } = (await a.getPatient(id)) ?? {};
    const { ingestedAt: _b, sourceHash: hb, ...rb } = (await b.getPatient(id)) ?? {};
    assert.deepEqual(ra, rb);
    assert.match(String(ha), /^qido:sha256:/);
    assert.match(String(hb), /^sha256:/);
  }

  // A server that is not there: a typed error for the run.
  const closed = await freePort();
  await assert.rejects(
    runIngest({ root: `dicomweb+http://127.0.0.1:${closed}/dicom-web`, store: web, workers: 1 }),
    (e) => isLungflowError(e, "DicomWebError") && e.code === "UNREACHABLE",
  );
  // A study the server does not have.
  await assert.rejects(
    runIngest({ root: src, store: web, workers: 1, dicomweb: { study: "1.2.3.4.5" } }),
    (e) => isLungflowError(e, "DicomWebError") && e.code === "NOT_FOUND",
  );

  // A cut multipart body: that patient fails with BAD_RESPONSE, the others are ingested.
  const study3 = (await a.getPatient(p3))?.seriesInstanceUid;
  assert.ok(study3);
  const studies = (await (await fetch(`${orthanc.dicomweb}/studies`)).json()) as {
    "0020000D": { Value: string[] };
    "00100020": { Value: string[] };
  }[];
  const cutStudy = studies.find((s) => s["00100020"].Value[0] === p3)?.["0020000D"].Value[0];
  assert.ok(cutStudy);
  const viaProxy = await cuttingProxy(orthanc.http, () => cutStudy);
  const ev3 = await runIngest({
    root: `dicomweb+${viaProxy}`,
    store: path.join(base, "cut.zarr"),
    workers: 1,
  });
  assert.deepEqual(ids(ev3, "ingested"), [p1, p2]);
  const f = ev3.find((e) => e.type === "failed");
  assert.ok(f && f.type === "failed");
  assert.equal(f.id, p3);
  assert.equal(f.error.code, "BAD_RESPONSE");
  tc.diagnostic(f.error.message);
});

test("DICOMweb --watch: a study that arrives while watching is ingested on the next poll; draining stops it cleanly", {
  skip,
  timeout: 120_000,
}, async () => {
  const server = await startOrthanc();
  try {
    const base = tmpDir("ingest-watch-");
    const root = path.join(base, "dicom");
    const c = await cohort(root, 2, 43);
    const [p1, p2] = c.patients.map((p) => p.patientId).sort();
    await server.upload(path.join(root, p1));
    const drain = new AbortController();
    const events: IngestEvent[] = [];
    let uploaded = false;
    const done = new Promise<void>((resolve, reject) =>
      ingest({
        root: `dicomweb+${server.dicomweb}`,
        store: path.join(base, "watch.zarr"),
        workers: 1,
        drain: drain.signal,
        dicomweb: { watch: true, pollMs: 200 },
      }).subscribe({
        next: (e) => {
          events.push(e);
          if (e.type === "ingested" && e.id === p1 && !uploaded) {
            uploaded = true;
            // the second study arrives while the first pass is over: the next poll takes it
            void server.upload(path.join(root, p2));
          }
          if (e.type === "ingested" && e.id === p2) drain.abort();
        },
        error: reject,
        complete: resolve,
      }),
    );
    await done;
    assert.deepEqual(ids(events, "ingested"), [p1, p2]);
    const fin = events.at(-1);
    assert.equal(fin?.type, "finished");
    assert.deepEqual(await (await openStore(path.join(base, "watch.zarr"))).listPatients(), [
      p1,
      p2,
    ]);
  } finally {
    await server.stop();
  }
});
