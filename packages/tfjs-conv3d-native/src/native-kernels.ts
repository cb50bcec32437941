import type { NativeAddon } from "./load-addon.js";
import type { CpuBackendLike, KernelFunc, TensorInfo, Tf } from "./tf-types.js";

type Conv3DInfo = ReturnType<Tf["backend_util"]["computeConv3DInfo"]>;
type Attrs = Record<string, unknown>;

/** The 18-int geometry the addon takes: [N,D,H,W,C, KD,KH,KW, OD,OH,OW,CO, sd,sh,sw, pd,ph,pw]. */
export function geometry(ci: Conv3DInfo): Int32Array {
  return Int32Array.from([
    ci.batchSize,
    ci.inDepth,
    ci.inHeight,
    ci.inWidth,
    ci.inChannels,
    ci.filterDepth,
    ci.filterHeight,
    ci.filterWidth,
    ci.outDepth,
    ci.outHeight,
    ci.outWidth,
    ci.outChannels,
    ci.strideDepth,
    ci.strideHeight,
    ci.strideWidth,
    ci.padInfo.front,
    ci.padInfo.top,
    ci.padInfo.left,
  ]);
}

function f32(backend: CpuBackendLike, t: TensorInfo): Float32Array | undefined {
  if (t.dtype !== "float32") return undefined;
  const v = backend.data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function plainNdhwc(attrs: Attrs): boolean {
  const df = attrs.dataFormat;
  return df === undefined || df === "NDHWC" || df === "channelsLast";
}

function undilated(ci: Conv3DInfo): boolean {
  return ci.dilationDepth === 1 && ci.dilationHeight === 1 && ci.dilationWidth === 1;
}

/** Padding tfjs's cpu kernels understand for 3D convs: "same", "valid" or one number. */
function knownPad(pad: unknown): boolean {
  return (
    pad === "same" ||
    pad === "valid" ||
    (typeof pad === "number" && Number.isInteger(pad) && pad >= 0)
  );
}

/**
 * Builds the three kernelFuncs. Each one runs the addon for float32 NDHWC undilated
 * convolutions and hands anything else (other dtypes, dilations, NCDHW, shapes it does not
 * recognise) to tfjs's own kernel, `fallback`, unchanged.
 */
export function makeKernelFuncs(
  tf: Tf,
  addon: NativeAddon,
  fallback: Record<string, KernelFunc>,
): Record<string, KernelFunc> {
  const { computeConv3DInfo } = tf.backend_util;

  const conv3d: KernelFunc = (args) => {
    const { inputs, attrs = {} } = args;
    const backend = args.backend as CpuBackendLike;
    const x = inputs.x as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const { strides, pad, dilations } = attrs as Attrs;
    const xv = f32(backend, x);
    const wv = f32(backend, filter);
    if (!xv || !wv || !plainNdhwc(attrs as Attrs) || !knownPad(pad)) return fallback.Conv3D(args);
    if (x.shape.length !== 5 || filter.shape.length !== 5 || filter.shape[3] !== x.shape[4]) {
      return fallback.Conv3D(args);
    }
    const ci = computeConv3DInfo(
      x.shape as [number, number, number, number, number],
      filter.shape as [number, number, number, number, number],
      strides as [number, number, number],
      (dilations ?? 1) as [number, number, number],
      pad as "same",
    );
    if (!undilated(ci)) return fallback.Conv3D(args);
    const y = new Float32Array(ci.outShape.reduce((a, b) => a * b, 1));
    addon.forward(xv, wv, y, geometry(ci));
    return backend.makeTensorInfo(ci.outShape, "float32", y);
  };

  const backpropInput: KernelFunc = (args) => {
    const { inputs, attrs = {} } = args;
    const backend = args.backend as CpuBackendLike;
    const dy = inputs.dy as TensorInfo;
    const filter = inputs.filter as TensorInfo;
    const { strides, pad, inputShape } = attrs as Attrs;
    const dyv = f32(backend, dy);
    const wv = f32(backend, filter);
    const fb = fallback.Conv3DBackpropInputV2;
    if (!dyv || !wv || !knownPad(pad) || !Array.isArray(inputShape) || inputShape.length !== 5)
      return fb(args);
    if (filter.shape.length !== 5 || dy.shape.length !== 5 || filter.shape[3] !== inputShape[4])
      return fb(args);
    const ci = computeConv3DInfo(
      inputShape as [number, number, number, number, number],
      filter.shape as [number, number, number, number, number],
      strides as [number, number, number],
      1,
      pad as "same",
    );
    if (!sameShape(ci.outShape, dy.shape)) return fb(args);
    const dx = new Float32Array(ci.inShape.reduce((a, b) => a * b, 1));
    addon.backpropInput(dyv, wv, dx, geometry(ci));
    return backend.makeTensorInfo([...ci.inShape], "float32", dx);
  };

  const backpropFilter: KernelFunc = (args) => {
    const { inputs, attrs = {} } = args;
    const backend = args.backend as CpuBackendLike;
    const x = inputs.x as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const { strides, pad, filterShape } = attrs as Attrs;
    const xv = f32(backend, x);
    const dyv = f32(backend, dy);
    const fb = fallback.Conv3DBackpropFilterV2;
    if (!xv || !dyv || !knownPad(pad) || !Array.isArray(filterShape) || filterShape.length !== 5)
      return fb(args);
    if (x.shape.length !== 5 || dy.shape.length !== 5 || filterShape[3] !== x.shape[4])
      return fb(args);
    const ci = computeConv3DInfo(
      x.shape as [number, number, number, number, number],
      filterShape as [number, number, number, number, number],
      strides as [number, number, number],
      1,
      pad as "same",
    );
    if (!sameShape(ci.outShape, dy.shape)) return fb(args);
    const dw = new Float32Array((filterShape as number[]).reduce((a, b) => a * b, 1));
    addon.backpropFilter(xv, dyv, dw, geometry(ci));
    return backend.makeTensorInfo([...(filterShape as number[])], "float32", dw);
  };

  return {
    Conv3D: conv3d,
    Conv3DBackpropInputV2: backpropInput,
    Conv3DBackpropFilterV2: backpropFilter,
  };
}
