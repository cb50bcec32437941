import { readNativeSlicesKernel } from "@lungflow/dicom-ingest";
import { cleanKernel, histogramKernel } from "@lungflow/lung-segmentation";
import { resampleKernel, type SlabKernel } from "@lungflow/volume";

/** Every slab kernel an ingest job may post, by name: what a helper thread can run. */
export const SLAB_KERNELS: ReadonlyMap<string, SlabKernel<unknown>> = new Map(
  (
    [readNativeSlicesKernel, resampleKernel, histogramKernel, cleanKernel] as SlabKernel<never>[]
  ).map((k) => [k.name, k as SlabKernel<unknown>]),
);
