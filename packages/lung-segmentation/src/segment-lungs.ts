import {
  type BBox,
  crop,
  type SlabRunner,
  serialSlabs,
  slabCount,
  type Volume,
} from "@lungflow/volume";
import { morphBlocks, morphRowsX, wordsPerRow } from "./bit-rows.js";
import { binaryDilate } from "./box-morphology.js";
import { type CleanStats, cleanKernel } from "./clean-candidates.js";
import { cropBox } from "./crop-box.js";
import { applyFixes, chooseComponent } from "./improved.js";
import { labelBitRuns, labelRuns } from "./label-runs.js";
import { otsuThresholdWith } from "./otsu-threshold.js";
import { resolveOptions, type SegmentLungsOptions } from "./segment-options.js";
import { SegmentationError } from "./segmentation-error.js";
import { KDSB17_KERNELS, kernelReach } from "./segmentation-params.js";
import {
  borderContact,
  boxMaskOf,
  countInBits,
  countInBytes,
  cropMask,
  cropTightBits,
  unpackTight,
} from "./tight-mask.js";

const JOIN = KDSB17_KERNELS.dilateJoin;
/** Reaches of the joining dilation along z and x (8 each) and of the crop's along y (8). */
const JOIN_Z = kernelReach(JOIN.kernel[0], JOIN.iterations);
const JOIN_X = kernelReach(JOIN.kernel[2], JOIN.iterations);
const CROP_Y = kernelReach(
  KDSB17_KERNELS.dilateCrop.kernel[1],
  KDSB17_KERNELS.dilateCrop.iterations,
);

/** Result of {@link segmentLungs}. */
export interface LungSegmentation {
  /** Tight lung mask (0/1) cropped to `bbox`; spacing kept, origin moved to the box corner. */
  mask: Volume<Uint8Array>;
  /** The input HU cropped to `bbox`. */
  hu: Volume<Int16Array>;
  /** Crop box in the input's voxel indices, end-exclusive `[[z0,z1],[y0,y1],[x0,x1]]`. */
  bbox: BBox;
  /** Otsu threshold (HU); candidates are voxels strictly below it. */
  otsuThreshold: number;
  /** The box mask (see the README), cropped; only with `boxMask: true`. */
  boxMask?: Volume<Uint8Array>;
  stats: SegmentationStats;
}

export interface SegmentationStats {
  mode: "kdsb17" | "improved";
  /** Voxels of the tight mask, and its volume at the input spacing. */
  lungVoxels: number;
  lungVolumeMl: number;
  /** Candidates below the threshold, and what the opening + background removal left. */
  candidateVoxels: number;
  cleanedVoxels: number;
  /** 3D components (26-connected) of the 5x1x5-dilated cleaned candidates. */
  components: number;
  /** Box-mask slices dropped as low / high tails. */
  tailSlicesDropped: [number, number];
  /** Voxels each improved-mode fix removed (negative: added). */
  fixes: Record<string, number>;
  /** Milliseconds per step. */
  timingsMs: Record<string, number>;
}

/**
 * Lung mask and crop of a 1 mm HU volume: kdsb17's preprocessing steps 3-4 with the details
 * pinned in the README; `mode: "improved"` adds the fixes of {@link SegmentLungsOptions}.
 *
 * @throws SegmentationError NO_LUNG_FOUND, LUNG_TOUCHES_BORDER, BAD_INPUT.
 */
export function segmentLungs(
  hu: Volume<Int16Array>,
  options: SegmentLungsOptions = {},
): LungSegmentation {
  const o = resolveOptions(options, hu?.direction?.[0]);
  const shape = hu?.shape;
  const ctx: Record<string, unknown> = { source: o.source, shape: shape ? [...shape] : undefined };
  if (
    !(hu?.data instanceof Int16Array) ||
    shape?.length !== 3 ||
    hu.data.length !== shape[0] * shape[1] * shape[2]
  ) {
    throw new SegmentationError(
      "BAD_INPUT",
      "segmentLungs needs a 3D Int16Array HU volume whose data matches its shape",
      ctx,
    );
  }
  const timingsMs: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timingsMs[name] = Math.round((now - t) * 10) / 10;
    t = now;
  };
  const runner = options.runner ?? serialSlabs;
  const threshold = otsuThresholdWith(hu.data, runner);
  ctx.otsuThreshold = threshold;
  lap("otsu");
  const fail = (
    code: "NO_LUNG_FOUND" | "LUNG_TOUCHES_BORDER",
    reason: string,
    extra: Record<string, unknown> = {},
  ) =>
    new SegmentationError(
      code,
      `${code === "NO_LUNG_FOUND" ? "no lung found" : "the lungs touch the volume border"}${o.source ? ` in ${o.source}` : ""}: ${reason}`,
      { ...ctx, reason, ...extra },
    );

  // Step 3: candidates, per-slice opening and background removal (bit-packed rows).
  const [nz, ny, nx] = shape;
  const bits = runner.alloc(Int32Array, nz * ny * wordsPerRow(nx));
  const cs = clean(hu.data, shape, threshold, bits, runner);
  lap("clean");
  if (cs.kept === 0)
    throw fail(
      "NO_LUNG_FOUND",
      "nothing below the Otsu threshold survives the opening and background removal",
      { candidateVoxels: cs.candidates },
    );
  // 5x1x5 dilation 4 times (a 17-voxel window in x and z), 26-connected components.
  const dilated = bits.slice();
  morphRowsX(dilated, 0, nz * ny, nx, JOIN_X, false);
  morphBlocks(dilated, 0, nz, ny * wordsPerRow(nx), JOIN_Z, false);
  lap("dilate");
  let rl = labelBitRuns(dilated, shape, 26);
  const components = rl.count;
  lap("label");
  let keep = chooseComponent(rl, o);
  if (!keep)
    throw fail("NO_LUNG_FOUND", "every candidate component touches the volume border", {
      components,
    });
  lap("choose");
  const fixes: Record<string, number> = {};
  let tight: Uint8Array | undefined;
  if (o.mode === "improved") {
    tight = unpackTight(bits, rl, keep);
    applyFixes(hu, tight, threshold, o, fixes, timingsMs);
    // The crop box follows the fixed mask: redo the dilation on it.
    const d = binaryDilate(tight, shape, [...JOIN.kernel], JOIN.iterations);
    rl = labelRuns(d, shape, 26);
    keep = new Uint8Array(rl.count + 1).fill(1);
    keep[0] = 0;
    t = performance.now();
  }
  // Step 4: box mask (1x5x1 dilation 4 times), tail drop, bounding box.
  const box = cropBox(rl, keep, CROP_Y, o.tailFraction);
  lap("box");
  if (!box.bbox) throw fail("NO_LUNG_FOUND", "the tail drop left no slice");
  const count = tight ? countInBytes(tight, nx) : countInBits(bits, nx);
  const contact = borderContact(count, rl, keep);
  const sideFraction = cs.cornerless / Math.max(1, contact.lungVoxels);
  lap("border");
  if (contact.lungVoxels === 0)
    throw fail("NO_LUNG_FOUND", "the chosen component holds no candidate voxel");
  const { lungVoxels } = contact;
  const tol = o.borderTolerance;
  const voxelMl = (hu.spacing[0] * hu.spacing[1] * hu.spacing[2]) / 1000;
  if (contact.faceFraction > tol || sideFraction > tol) {
    const keptMl = lungVoxels * voxelMl;
    const cutMl = cs.cornerless * voxelMl;
    const ml = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)} mL`;
    throw fail(
      "LUNG_TOUCHES_BORDER",
      contact.faceFraction > tol
        ? `the scan range cuts the lungs: on the ${contact.face} slice their cross-section is still ${(100 * contact.faceFraction).toFixed(1)}% of the largest one (limit ${(100 * tol).toFixed(1)}%). ` +
            `Scan (or export) the whole lung height, from above the apices to below the bases`
        : `${ml(cutMl)} of lung-like air (below the Otsu threshold, ${threshold} HU) reaches the side of the field of view and was removed as outside air, against ${ml(keptMl)} of lung kept (limit: ${(100 * tol).toFixed(1)}% of it). ` +
            "The field of view is likely too small for the chest or the chest is not centred in it " +
            "(or the chest is too small for the 1 mm kernels, as a `lungflow phantom --preset mini` chest is). " +
            "Reconstruct with a larger field of view or centre the chest (phantoms: `--preset realistic`); " +
            "segmentLungs' borderTolerance raises the limit",
      {
        faceFraction: contact.faceFraction,
        sideFraction,
        borderTolerance: tol,
        cutVolumeMl: cutMl,
        lungVolumeMl: keptMl,
      },
    );
  }
  if (lungVoxels * voxelMl < o.minLungVolumeMl) {
    throw fail(
      "NO_LUNG_FOUND",
      `the lungs found hold ${(lungVoxels * voxelMl).toFixed(1)} mL, under minLungVolumeMl ${o.minLungVolumeMl}`,
      { lungVoxels },
    );
  }
  const bbox = box.bbox;
  const mask = tight ? cropMask(hu, tight, bbox) : cropTightBits(hu, bits, rl, keep, bbox);
  const huCrop = crop(hu, bbox);
  lap("crop");
  const res: LungSegmentation = {
    mask,
    hu: huCrop,
    bbox,
    otsuThreshold: threshold,
    stats: {
      mode: o.mode,
      lungVoxels,
      lungVolumeMl: lungVoxels * voxelMl,
      candidateVoxels: cs.candidates,
      cleanedVoxels: cs.kept,
      components,
      tailSlicesDropped: [box.droppedLow, box.droppedHigh],
      fixes,
      timingsMs,
    },
  };
  if (o.boxMask) res.boxMask = boxMaskOf(hu, rl, keep, bbox, CROP_Y);
  return res;
}

/** Slices per part when a runner splits the per-slice step. */
const CLEAN_SLICES = 16;

/** {@link cleanCandidates} over every slice, in z-slabs through `runner`; counts summed. */
function clean(
  hu: Int16Array,
  shape: [number, number, number],
  threshold: number,
  out: Int32Array,
  runner: SlabRunner,
): CleanStats {
  const parts = runner === serialSlabs ? 1 : slabCount(shape[0], CLEAN_SLICES);
  const stats = runner.alloc(Float64Array, 3 * parts);
  runner.forEach(cleanKernel, parts, { hu, shape, threshold, out, stats, parts });
  const sum: CleanStats = { candidates: 0, kept: 0, cornerless: 0 };
  for (let p = 0; p < parts; p++) {
    sum.candidates += stats[3 * p];
    sum.kept += stats[3 * p + 1];
    sum.cornerless += stats[3 * p + 2];
  }
  return sum;
}
