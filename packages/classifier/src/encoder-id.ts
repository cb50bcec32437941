import { createHash } from "node:crypto";
import type { tf } from "@lungflow/tf-runtime";
import type { ClassifierHeadConfig } from "./model.js";

/**
 * The id of an encoder's stored features: `enc-` + 16 hex digits of a SHA-256 over the
 * encoder's layer configs (class, name, config) and every weight's position, shape and bytes.
 * With `input` (the classifier's `region` and `density`), also over those: features of the
 * masked volume with a density channel never share an id with the plain encoder's.
 * Same weights and architecture, same id; any change of either, a new id, so features
 * computed by another encoder are never mixed in.
 */
export function encoderId(
  encoder: tf.LayersModel,
  input?: Pick<ClassifierHeadConfig, "region" | "density">,
): string {
  const h = createHash("sha256");
  // what the features are computed on: the lung region or the whole box, and the density channel
  if (input) h.update(JSON.stringify({ region: input.region, density: input.density }));
  for (const layer of encoder.layers) {
    h.update(JSON.stringify([layer.getClassName(), layer.getConfig()]));
    // by position, not by variable name: tfjs suffixes names of re-created variables
    for (const [i, w] of layer.weights.entries()) {
      const v = w.read();
      h.update(`${layer.name}/${i}:${v.shape.join("x")}:`);
      const d = v.dataSync() as Float32Array;
      h.update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
    }
  }
  return `enc-${h.digest("hex").slice(0, 16)}`;
}
