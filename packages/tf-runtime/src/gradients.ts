import * as tf from "@tensorflow/tfjs";

/**
 * Registers the gradient tfjs 4.22 lacks for `Conv3DBackpropInputV2` (the kernel behind
 * `tf.conv3dTranspose`), so transposed 3D convolutions can train.
 *
 * `Conv3DBackpropInputV2(dy, filter)` is the adjoint, in its first argument, of
 * `conv3d(x, filter)`. Given `ddx` (the gradient flowing into its output):
 * - d/d(dy)     = conv3d(ddx, filter)                         (the forward conv again)
 * - d/d(filter) = Conv3DBackpropFilterV2(x = ddx, dy = dy)      (same bilinear form)
 *
 * Proven against central finite differences in test/gradients.test.ts. Returns true if
 * this call registered it, false if a gradient was already there (never overwritten).
 */
export function registerConv3dGradients(): boolean {
  if (tf.getGradient("Conv3DBackpropInputV2") !== undefined) return false;
  tf.registerGradient({
    kernelName: "Conv3DBackpropInputV2",
    inputsToSave: ["dy", "filter"],
    gradFunc: (ddx: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
      const [dy, filter] = saved as [tf.Tensor5D, tf.Tensor5D];
      const { strides, pad } = attrs as unknown as {
        strides: [number, number, number] | number;
        pad: "valid" | "same";
      };
      const g = ddx as tf.Tensor5D;
      return {
        dy: () => tf.conv3d(g, filter, strides, pad),
        filter: () =>
          tf.engine().runKernel("Conv3DBackpropFilterV2", { x: g, dy }, {
            strides,
            pad,
            filterShape: filter.shape,
          } as unknown as tf.NamedAttrMap) as tf.Tensor,
      };
    },
  });
  return true;
}
