import assert from "node:assert/strict";
import { test } from "node:test";
import { makeVolume } from "@lungflow/volume";
import { PNG } from "pngjs";
import { lineChartSvg, rocChartSvg, slicePng, svgToPng } from "../src/index.ts";

test("slicePng windows HU to grey and outlines the mask, on every axis", () => {
  const shape: [number, number, number] = [4, 6, 8];
  const hu = makeVolume(new Int16Array(4 * 6 * 8).fill(-1000), shape);
  const mask = makeVolume(new Uint8Array(4 * 6 * 8), shape);
  // a 2x3x4 block of "lung" at z 1-2, y 2-4, x 2-5 with HU 400 (white)
  for (let z = 1; z <= 2; z++)
    for (let y = 2; y <= 4; y++)
      for (let x = 2; x <= 5; x++) {
        mask.data[(z * 6 + y) * 8 + x] = 1;
        hu.data[(z * 6 + y) * 8 + x] = 400;
      }
  const ax = PNG.sync.read(slicePng(hu, mask, "axial", { scale: 1 }));
  assert.equal(ax.width, 8);
  assert.equal(ax.height, 6);
  const px = (p: PNG, r: number, c: number) =>
    Array.from(p.data.subarray((r * p.width + c) * 4, (r * p.width + c) * 4 + 3));
  assert.deepEqual(px(ax, 0, 0), [0, 0, 0]); // air is black
  assert.deepEqual(px(ax, 2, 2), [255, 40, 40]); // mask border is red
  assert.deepEqual(px(ax, 3, 3), [255, 255, 255]); // mask interior keeps the grey value
  const cor = PNG.sync.read(slicePng(hu, mask, "coronal", { scale: 2 }));
  assert.deepEqual([cor.width, cor.height], [16, 8]);
  const sag = PNG.sync.read(slicePng(hu, undefined, "sagittal", { index: 3, scale: 1 }));
  assert.deepEqual([sag.width, sag.height], [6, 4]);
  // head up: row 0 of the sagittal image is the last z slice
  assert.deepEqual(px(sag, 4 - 1 - 1, 3), [255, 255, 255]);
  assert.throws(() => slicePng(hu, mask, "axial", { index: 9 }), /index 9 outside/);
});

test("charts render to SVG with titles and rasterise to PNG", async () => {
  const svg = await lineChartSvg(
    [
      {
        name: "train",
        points: [
          [1, 2],
          [2, 1.5],
          [3, Number.NaN],
          [4, 1.2],
        ],
      },
      {
        name: "validation",
        points: [
          [1, 2.2],
          [2, 1.9],
        ],
      },
    ],
    { title: "GMCAE loss", xTitle: "epoch", yTitle: "NLL" },
  );
  assert.match(svg, /^<svg/);
  for (const s of ["GMCAE loss", "epoch", "NLL", "train", "validation"])
    assert.ok(svg.includes(s), s);
  const png = PNG.sync.read(
    svgToPng(
      await rocChartSvg(
        [
          { fpr: 0, tpr: 0 },
          { fpr: 0.25, tpr: 0.75 },
          { fpr: 1, tpr: 1 },
        ],
        0.8125,
      ),
    ),
  );
  assert.ok(png.width > 300 && png.height > 300);
  const roc = await rocChartSvg(
    [
      { fpr: 0, tpr: 0 },
      { fpr: 1, tpr: 1 },
    ],
    0.5,
  );
  assert.ok(roc.includes("AUC 0.500"));
});
