/**
 * Viewer benchmark: time to first render of a full-size patient (a synthetic chest of
 * 300 x 250 x 330 voxels written with the store API, 64^3 chunks as the ingest writes them)
 * in Debian's headless Chromium, from navigation to the three planes drawn with the mask,
 * and the bytes the server sent for it; then the time of one scroll step (one slice of each
 * array) and the page's JS heap. Cold: a fresh server (no chunk cached); warm: reopened.
 * Usage: pnpm bench view [--quick] [--screenshot out.png]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openStore, type PreprocessingParams } from "@lungflow/patch-store";
import { startViewer } from "@lungflow/viewer";
import { makeVolume, mulberry32, type Vec3 } from "@lungflow/volume";
import { chromium } from "playwright-core";
import { type BenchResult, quick, report } from "./lib.ts";

const CHROMIUM = "/usr/bin/chromium";
const PARAMS: PreprocessingParams = {
  spacing: [1, 1, 1],
  interpolation: "trilinear",
  thresholdMethod: "otsu",
  maskMode: "kdsb17",
  kernels: {},
  tailFraction: 0.005,
};
const shape: Vec3 = quick ? [120, 100, 130] : [300, 250, 330];
const shotAt = process.argv.indexOf("--screenshot");
const screenshot = shotAt > 0 ? path.resolve(process.argv[shotAt + 1]) : undefined;

if (!fs.existsSync(CHROMIUM)) {
  console.error(`bench view: Debian's chromium is not at ${CHROMIUM} (apt-get install chromium)`);
  process.exit(1);
}

function chestLike(s: Vec3, seed: number) {
  const [nz, ny, nx] = s;
  const hu = new Int16Array(nz * ny * nx);
  const mask = new Uint8Array(hu.length);
  const rand = mulberry32(seed);
  let i = 0;
  for (let z = 0; z < nz; z++)
    for (let y = 0; y < ny; y++)
      for (let x = 0; x < nx; x++, i++) {
        const dz = (z - nz / 2) / (nz / 2);
        const dy = (y - ny / 2) / (ny / 2);
        const dxl = (x - nx * 0.27) / (nx * 0.24);
        const dxr = (x - nx * 0.73) / (nx * 0.24);
        const lung = dz * dz + dy * dy + Math.min(dxl * dxl, dxr * dxr) < 1;
        hu[i] = Math.round((lung ? -850 : 40) + (rand() + rand() + rand() - 1.5) * 40);
        mask[i] = lung ? 1 : 0;
      }
  return { hu: makeVolume(hu, s), mask: makeVolume(mask, s) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-view-"));
const storePath = path.join(dir, "s.zarr");
const results: BenchResult[] = [];
try {
  const store = await openStore(storePath, { create: true, params: PARAMS });
  const lock = await store.lock({ purpose: "bench view" });
  const { hu, mask } = chestLike(shape, 1);
  await store.writePatient({
    id: "chest",
    hu,
    mask,
    params: PARAMS,
    source: {
      bbox: [
        [0, shape[0]],
        [0, shape[1]],
        [0, shape[2]],
      ],
      sourceSpacing: [1, 0.7, 0.7],
      sourceShape: shape,
      otsuThreshold: -400,
      seriesInstanceUid: "1.2.3",
      fileCount: shape[0],
      sourceHash: "bench",
      lungflowVersion: "bench",
    },
  });
  await lock.release();
  const volumeBytes = hu.data.byteLength + mask.data.byteLength;
  const ctx = await chromium.launchPersistentContext(path.join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1600, height: 1000 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const mid = shape.map((n) => Math.floor(n / 2));
  const ready = (plane: string, i: number) =>
    page.waitForSelector(`#${plane}[data-state=ready][data-index="${i}"]`, { timeout: 60_000 });
  // cold: a fresh server (no chunk decoded yet); warm: the patient opened again (chunk cache).
  const viewer = await startViewer({ store: storePath });
  await page.goto(viewer.url);
  await page.waitForSelector("body[data-list=ready]");
  for (const run of ["cold", "warm"]) {
    await page.evaluate(() => {
      location.hash = "#/";
      for (const c of document.querySelectorAll("canvas")) c.dataset.state = "stale";
    });
    const b0 = viewer.stats.bytesSent;
    const t0 = performance.now();
    await page.evaluate(() => {
      location.hash = "#/patient/chest";
    });
    await Promise.all([
      ready("axial", mid[0]),
      ready("coronal", mid[1]),
      ready("sagittal", mid[2]),
    ]);
    const ms = performance.now() - t0;
    const bytes = viewer.stats.bytesSent - b0;
    const cfg = { shape: shape.join("x"), chunk: 64, volumeBytes };
    results.push({
      case: `first render (${run})`,
      metric: "time",
      value: +ms.toFixed(1),
      unit: "ms",
      ...cfg,
    });
    results.push({
      case: `first render (${run})`,
      metric: "bytes",
      value: bytes,
      unit: "B",
      ...cfg,
    });
    if (run === "cold") {
      const box = await page.$("#axial").then((e) => e?.boundingBox());
      if (!box) throw new Error("no axial canvas");
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const steps = 10;
      const s0 = performance.now();
      for (let k = 1; k <= steps; k++) {
        await page.mouse.wheel(0, 120);
        await ready("axial", mid[0] + k);
      }
      results.push({
        case: "scroll one axial slice",
        metric: "time",
        value: +((performance.now() - s0) / steps).toFixed(1),
        unit: "ms",
        ...cfg,
      });
      const heap = await page.evaluate(
        () =>
          (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory
            ?.usedJSHeapSize ?? 0,
      );
      results.push({
        case: "page JS heap after scrolling",
        metric: "heap",
        value: +(heap / 2 ** 20).toFixed(1),
        unit: "MiB",
        ...cfg,
      });
      if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    }
  }
  await viewer.close();
  await ctx.close();
  for (const r of results) console.log(`${r.case}: ${r.metric} ${r.value} ${r.unit}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report("view", results);
