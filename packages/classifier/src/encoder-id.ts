import { createHash } from "node:crypto";
import type { tf } from "@lungflow/tf-runtime";

/**
 * The id of an encoder's stored features: `enc-` + 16 hex digits of a SHA-256 over the
 * encoder's layer configs (class, name, config) and every weight's position, shape and bytes.
 * Same weights and architecture, same id; any change of either, a new id, so features
 * computed by another encoder are never mixed in.
 */
export function encoderId(encoder: tf.LayersModel): string {
  const h = createHash("sha256");
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
