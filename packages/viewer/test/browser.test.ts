import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { startViewer, type ViewerServer } from "../src/index.ts";
import { makeViewerStore } from "./fixtures.ts";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM)
  ? false
  : `Debian's chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;

const dir = mkdtempSync(path.join(tmpdir(), "viewer-browser-"));
let viewer: ViewerServer;
let browser: BrowserContext;
let page: Page;
let store: PatchStore;
let badChunk: string;

before(async () => {
  if (skip) return;
  const made = await makeViewerStore(dir);
  badChunk = made.badChunk;
  store = await openStore(made.store);
  viewer = await startViewer({
    store: made.store,
    predictions: new Map([["other", 0.8]]),
  });
  // A fresh profile per run (launchPersistentContext owns --user-data-dir).
  browser = await chromium.launchPersistentContext(path.join(dir, "profile"), {
    executablePath: CHROMIUM,
    viewport: { width: 1600, height: 1000 },
    headless: true,
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
  page = browser.pages()[0] ?? (await browser.newPage());
  // Nothing but the viewer may be asked for: no CDN, no fonts, no telemetry.
  await page.route("**/*", (route) =>
    route.request().url().startsWith(viewer.url) ? route.continue() : route.abort(),
  );
  page.on("request", (r) => {
    if (!r.url().startsWith(viewer.url)) outside.push(r.url());
  });
});
const outside: string[] = [];

after(async () => {
  await browser?.close();
  await viewer?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** RGBA pixels of a canvas. */
async function pixels(id: string): Promise<{ w: number; h: number; data: number[] }> {
  return page.evaluate((sel) => {
    const c = document.querySelector(sel) as HTMLCanvasElement;
    const d = c.getContext("2d")?.getImageData(0, 0, c.width, c.height);
    return { w: c.width, h: c.height, data: Array.from(d?.data ?? []) };
  }, `#${id}`);
}

const readyAt = (plane: string, index: number) =>
  page.waitForSelector(`#${plane}[data-state=ready][data-index="${index}"]`, { timeout: 10_000 });

test("the patient list loads, sorts and filters", { skip }, async () => {
  await page.goto(viewer.url);
  await page.waitForSelector("body[data-list=ready]");
  const ids = () =>
    page.$$eval("#patients tbody tr", (trs) => trs.map((t) => (t as HTMLElement).dataset.id));
  assert.deepEqual(await ids(), ["bad", "good", "other"]);
  const other = await page.$$eval("#patients tbody tr[data-id=other] td", (tds) =>
    tds.map((t) => t.textContent),
  );
  assert.deepEqual(other, ["other", "1", "", "0.800", "1100", "SPACING_VARIES"]);
  await page.click("th[data-key=id]"); // second click on the sorted column: descending
  assert.deepEqual(await ids(), ["other", "good", "bad"]);
  await page.fill("#filter", "spacing");
  assert.deepEqual(await ids(), ["other"]);
  await page.fill("#filter", "");
  assert.equal(outside.length, 0, `requests outside the viewer: ${outside.join(", ")}`);
});

test("a patient renders in three planes with the mask overlay", { skip }, async () => {
  const a = await store.getPatient("good");
  assert.ok(a);
  const mid = a.shape.map((n) => Math.floor(n / 2));
  await page.evaluate(() => {
    location.hash = "#/patient/good";
  });
  await Promise.all([
    readyAt("axial", mid[0]),
    readyAt("coronal", mid[1]),
    readyAt("sagittal", mid[2]),
  ]);
  // Axial: canvas pixels vs the stored slice. Mask-tinted pixels (red well above green) must
  // be where the mask is, up to the crosshair's two lines.
  const [nz, ny, nx] = a.shape;
  const hu = await store.readPatch("good", [mid[0], 0, 0], [1, ny, nx]);
  const mask = await store.readPatch("good", [mid[0], 0, 0], [1, ny, nx], { array: "mask" });
  const px = await pixels("axial");
  assert.equal(px.w, nx); // 0.7 mm in-plane is the finest spacing: one pixel per voxel
  assert.equal(px.h, ny);
  let tinted = 0;
  let expectedTinted = 0;
  let mismatched = 0;
  let greyError = 0;
  let greyCount = 0;
  for (let y = 0; y < ny; y++)
    for (let x = 0; x < nx; x++) {
      const i = y * nx + x;
      const [r, g, b] = [px.data[4 * i], px.data[4 * i + 1], px.data[4 * i + 2]];
      const isTinted = r - g > 40 && Math.abs(g - b) < 3;
      tinted += isTinted ? 1 : 0;
      expectedTinted += mask[i];
      if (isTinted !== (mask[i] === 1)) mismatched++;
      if (!mask[i] && y !== mid[1] && x !== mid[2]) {
        // Lung window W1500 L-600: grey = (HU + 1350) / 1500 * 255, clamped.
        const want = Math.max(0, Math.min(255, ((hu[i] + 1350) / 1500) * 255));
        greyError += Math.abs(g - want);
        greyCount++;
      }
    }
  assert.ok(expectedTinted > 500, `the fixture slice holds lung (${expectedTinted} voxels)`);
  assert.ok(
    mismatched <= nx + ny,
    `${mismatched} pixels disagree with the mask (tinted ${tinted} of ${expectedTinted})`,
  );
  assert.ok(greyError / greyCount < 1.5, `mean grey error ${greyError / greyCount}`);
  // Coronal and sagittal: physical aspect (z spacing over in-plane spacing), and as many
  // tinted pixels as the stored slice has mask voxels times the pixels per voxel.
  for (const plane of ["coronal", "sagittal"] as const) {
    const p = await pixels(plane);
    assert.equal(p.h, Math.round((nz * a.spacing[0]) / Math.min(...a.spacing)));
    const k = plane === "coronal" ? 1 : 2;
    const origin: [number, number, number] = [0, 0, 0];
    const size: [number, number, number] = [nz, ny, nx];
    origin[k] = mid[k];
    size[k] = 1;
    const m = await store.readPatch("good", origin, size, { array: "mask" });
    const want = Array.from(m).reduce((s, v) => s + v, 0) * ((p.w * p.h) / m.length);
    let red = 0;
    for (let i = 0; i < p.w * p.h; i++) if (p.data[4 * i] - p.data[4 * i + 1] > 40) red++;
    if (plane === "coronal")
      assert.ok(want > 0.05 * p.w * p.h, "the coronal slice crosses the lungs");
    assert.ok(
      Math.abs(red - want) <= 0.05 * want + p.w + p.h,
      `${plane}: ${red} tinted pixels, ${want} expected`,
    );
  }
  // The mask opacity slider at 0 removes the tint.
  await page.$eval("#mask-opacity", (el) => {
    (el as HTMLInputElement).value = "0";
    el.dispatchEvent(new Event("input"));
  });
  const plain = await pixels("axial");
  let left = 0;
  for (let i = 0; i < nx * ny; i++) if (plain.data[4 * i] - plain.data[4 * i + 1] > 40) left++;
  assert.equal(left, 0);
  await page.$eval("#mask-opacity", (el) => {
    (el as HTMLInputElement).value = "0.4";
    el.dispatchEvent(new Event("input"));
  });
});

test("scrolling changes the slice; the HU under the crosshair is the store's", {
  skip,
}, async () => {
  const a = await store.getPatient("good");
  assert.ok(a);
  const z0 = Math.floor(a.shape[0] / 2);
  const before = await pixels("axial");
  const box = await page.$("#axial").then((e) => e?.boundingBox());
  assert.ok(box);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, 120);
  await page.mouse.wheel(0, 120);
  await page.mouse.wheel(0, 120);
  await readyAt("axial", z0 + 3);
  const afterScroll = await pixels("axial");
  let diff = 0;
  for (let i = 0; i < before.data.length; i++) if (before.data[i] !== afterScroll.data[i]) diff++;
  assert.ok(diff > 1000, `only ${diff} channel values changed`);
  // Click a point in the lung: the probe shows that voxel and its HU.
  const y = Math.floor(0.55 * a.shape[1]);
  const x = Math.floor(0.3 * a.shape[2]);
  // Whole CSS pixels inside the voxel's square (the input pipeline drops fractions).
  const at = (start: number, px: number) => Math.ceil(start + Math.max(0, px / 2 - 1));
  await page.mouse.click(
    at(box.x + (x * box.width) / a.shape[2], box.width / a.shape[2]),
    at(box.y + (y * box.height) / a.shape[1], box.height / a.shape[1]),
  );
  await page
    .waitForFunction(
      (want) => document.querySelector("#voxel")?.textContent === want,
      `[${z0 + 3}, ${y}, ${x}]`,
      {
        timeout: 5000,
      },
    )
    .catch(async (err) => {
      throw new Error(
        `probe shows ${await page.$eval("#voxel", (e) => e.textContent)}, box ${JSON.stringify(box)}`,
        {
          cause: err,
        },
      );
    });
  const shown = Number(await page.$eval("#hu", (e) => (e as HTMLElement).dataset.value));
  const [stored] = await store.readPatch("good", [z0 + 3, y, x], [1, 1, 1]);
  assert.equal(shown, stored);
  const world = (await page.$eval("#world", (e) => e.textContent ?? "")).split(",").map(Number);
  const want = [0, 1, 2].map(
    (k) =>
      a.origin[k] +
      (z0 + 3) * a.spacing[0] * a.direction[0][k] +
      y * a.spacing[1] * a.direction[1][k] +
      x * a.spacing[2] * a.direction[2][k],
  );
  for (let k = 0; k < 3; k++)
    assert.ok(Math.abs(world[k] - want[k]) <= 0.05, `world ${world} vs ${want}`);
});

test("a feature-magnitude overlay is drawn from stored encoder features", { skip }, async () => {
  const before = await pixels("axial");
  await page.selectOption("#encoder", "enc-test");
  await page.waitForSelector("#axial[data-layers~=features]", { timeout: 10_000 });
  const withF = await pixels("axial");
  // Magnitude grows with x: the overlay changes the right side more than the left.
  const change = (x0: number, x1: number) => {
    let s = 0;
    for (let y = 0; y < withF.h; y++)
      for (let x = x0; x < x1; x++)
        s += Math.abs(
          withF.data[4 * (y * withF.w + x) + 2] - before.data[4 * (y * withF.w + x) + 2],
        );
    return s;
  };
  const third = Math.floor(withF.w / 3);
  assert.ok(
    change(2 * third, withF.w) > change(0, third) + 1000,
    "overlay grows with the feature magnitude",
  );
  await page.selectOption("#encoder", "");
});

test("a corrupt chunk is reported in the page, never a blank canvas", { skip }, async () => {
  await page.evaluate(() => {
    location.hash = "#/patient/bad";
  });
  await page.waitForSelector("#axial[data-state=error]", { timeout: 10_000 });
  const msg = await page.$eval("#error", (e) =>
    (e as HTMLElement).hidden ? "" : (e.textContent ?? ""),
  );
  assert.match(msg, /CHUNK_DECODE/);
  assert.ok(msg.includes(badChunk), `the message names the chunk file: ${msg}`);
  const p = await pixels("axial");
  let dark = 0;
  for (let i = 0; i < p.w * p.h; i++) if (p.data[4 * i + 3] === 0) dark++;
  assert.equal(dark, 0, "the canvas is painted (an error panel), not left transparent");
  // A patient that is not in the store is reported too.
  await page.evaluate(() => {
    location.hash = "#/patient/nobody";
  });
  await page.waitForFunction(() =>
    document.querySelector("#error")?.textContent?.includes("PATIENT_NOT_FOUND"),
  );
});
