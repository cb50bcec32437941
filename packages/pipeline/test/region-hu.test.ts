import assert from "node:assert/strict";
import { test } from "node:test";
import { isLungflowError } from "@lungflow/volume";
import { regionHu } from "../src/patches/region-hu.ts";
import { chest } from "./patches-helpers.ts";

test("regionHu: outside the lung region reads -1000 HU; no Otsu threshold is BAD_ARRAY naming the patient, the HU untouched", () => {
  const c = chest([20, 28, 30], 4);
  const attrs = {
    id: "p7",
    spacing: [1, 1, 1] as [number, number, number],
    origin: [0, 0, 0] as [number, number, number],
  };
  const out = regionHu(c.hu.slice(), c.shape, c.mask, { ...attrs, otsuThreshold: -400 });
  let outside = 0;
  for (let i = 0; i < out.length; i++) {
    if (out[i] !== c.hu[i]) {
      assert.equal(out[i], -1000);
      assert.equal(c.mask[i], 0, "a lung voxel is never masked");
      outside++;
    }
  }
  assert.ok(outside > 0, "the body around the lungs is masked");
  for (const bad of [Number.NaN, undefined]) {
    const hu = c.hu.slice();
    assert.throws(
      () => regionHu(hu, c.shape, c.mask, { ...attrs, otsuThreshold: bad as unknown as number }),
      (e) =>
        isLungflowError(e, "PatchStreamError") &&
        e.code === "BAD_ARRAY" &&
        /patient p7/.test(e.message),
    );
    assert.deepEqual(hu, c.hu, "nothing masked before the refusal");
  }
});
