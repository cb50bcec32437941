import { tf } from "@lungflow/tf-runtime";
import { ClassifierError } from "./errors.js";
import { chainLayers } from "./model.js";

type Vec3 = [number, number, number];

/** One step of an encoder chain as the tiler sees it. */
type Step =
  | {
      kind: "conv";
      name: string;
      kernel: tf.Tensor5D;
      bias?: tf.Tensor1D;
      k: Vec3;
      s: Vec3;
      same: boolean;
      activation: string;
    }
  | { kind: "pointwise"; name: string; layer: tf.layers.Layer };

/** Geometry of an encoder: how input sizes map to feature sizes. */
export interface EncoderGeometry {
  /** Product of the conv strides per axis (8 for three stride-2 levels). */
  stride: Vec3;
  /** Receptive field of one output voxel, in input voxels per axis. */
  receptiveField: Vec3;
  /** Output channels. */
  channels: number;
}

/** Options of {@link encodeTiled}. */
export interface TiledEncodeOptions {
  /**
   * Edge of a tile in output (feature) voxels, per axis or one number (default: from
   * `maxTileMiB`). Peak memory grows with the tile, not with the volume:
   * the largest activation of a tile is about `(tile * stride + receptiveField)^3 * filters`.
   */
  tile?: number | Vec3;
  /** Without `tile`: the largest cubic tile whose activations fit this many MiB (default 512). */
  maxTileMiB?: number;
  /** Called after each tile with (done, total). */
  onTile?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/** A feature map `[z, y, x, c]`, channels last. */
export interface FeatureMap {
  data: Float32Array;
  shape: [number, number, number, number];
}

const POINTWISE = new Set(["ReLU", "BatchNorm3D", "Activation", "LeakyReLU", "ELU"]);

/**
 * The tiling plan of an encoder chain (the GMCAE's: 3D convs with 'same' or 'valid' padding
 * and any strides, each followed by point-wise layers). Holds references to the layers'
 * weights; call {@link TiledEncoder.dispose} when done.
 */
export class TiledEncoder {
  readonly steps: Step[];
  readonly geometry: EncoderGeometry;
  readonly inputChannels: number;

  constructor(encoder: tf.LayersModel) {
    const inShape = encoder.inputs[0].shape;
    this.inputChannels = inShape[inShape.length - 1] ?? 1;
    this.steps = chainLayers(encoder).map((layer) => toStep(layer));
    const stride: Vec3 = [1, 1, 1];
    const rf: Vec3 = [1, 1, 1];
    let channels = this.inputChannels;
    for (const st of this.steps) {
      if (st.kind !== "conv") continue;
      for (let a = 0; a < 3; a++) {
        rf[a] += (st.k[a] - 1) * stride[a];
        stride[a] *= st.s[a];
      }
      channels = st.kernel.shape[4];
    }
    this.geometry = { stride, receptiveField: rf, channels };
  }

  /** Feature-map shape `[z, y, x]` for an input of `shape` (as the untiled encoder gives it). */
  outputShape(shape: readonly number[]): Vec3 {
    let n = [...shape] as Vec3;
    for (const st of this.steps)
      if (st.kind === "conv") n = n.map((v, a) => convOut(st, a, v).n) as Vec3;
    return n;
  }

  /**
   * Runs the encoder over a whole volume `[z, y, x]` (one channel, already normalised) in
   * tiles and stitches the result: equal (to float rounding) to running the encoder on the
   * whole volume at once, because each tile is computed from exactly the input voxels its
   * outputs depend on, with the whole volume's 'same' zero padding applied at its borders
   * (TensorFlow's rule: `pad = max((out - 1) * s + k - n, 0)`, the smaller half in front,
   * which depends on the size of the whole volume at each level, so tiles cannot simply be
   * run through the layers with their own padding).
   */
  async encode(
    volume: Float32Array,
    shape: Vec3,
    opts: TiledEncodeOptions = {},
  ): Promise<FeatureMap> {
    if (this.inputChannels !== 1)
      throw new ClassifierError(
        "BAD_CONFIG",
        `tiled encoding takes one input channel, the encoder has ${this.inputChannels}`,
      );
    if (
      shape.some((n) => !Number.isInteger(n) || n < 1) ||
      volume.length !== shape[0] * shape[1] * shape[2]
    )
      throw new ClassifierError(
        "BAD_CONFIG",
        `volume of ${volume.length} voxels does not match shape ${shape.join("x")}`,
      );
    const tileOpt = opts.tile ?? this.tileFor((opts.maxTileMiB ?? 512) * 2 ** 20);
    const tile = (typeof tileOpt === "number" ? [tileOpt, tileOpt, tileOpt] : tileOpt) as Vec3;
    if (tile.some((t) => !Number.isInteger(t) || t < 1))
      throw new ClassifierError(
        "BAD_CONFIG",
        `tile must be positive integers, got ${tile.join(",")}`,
      );
    // sizes at every conv's input
    const sizes: Vec3[] = [];
    let n = [...shape] as Vec3;
    for (const st of this.steps) {
      if (st.kind !== "conv") continue;
      sizes.push(n);
      n = n.map((v, a) => convOut(st, a, v).n) as Vec3;
    }
    const out = n;
    const c = this.geometry.channels;
    const result = new Float32Array(out[0] * out[1] * out[2] * c);
    const starts = out.map((len, a) => {
      const s: number[] = [];
      for (let i = 0; i < len; i += tile[a]) s.push(i);
      return s;
    });
    const total = starts[0].length * starts[1].length * starts[2].length;
    let done = 0;
    const src = tf.tensor4d(volume, [shape[0], shape[1], shape[2], 1]);
    try {
      for (const z0 of starts[0])
        for (const y0 of starts[1])
          for (const x0 of starts[2]) {
            opts.signal?.throwIfAborted();
            const lo: Vec3 = [z0, y0, x0];
            const hi = lo.map((v, a) => Math.min(out[a], v + tile[a])) as Vec3;
            const t = this.#tile(src, sizes, lo, hi);
            const data = (await t.data()) as Float32Array;
            t.dispose();
            const [tz, ty, tx] = hi.map((v, a) => v - lo[a]);
            for (let z = 0; z < tz; z++)
              for (let y = 0; y < ty; y++) {
                const from = (z * ty + y) * tx * c;
                const to = (((lo[0] + z) * out[1] + lo[1] + y) * out[2] + lo[2]) * c;
                result.set(data.subarray(from, from + tx * c), to);
              }
            opts.onTile?.(++done, total);
            // let other work (progress, signals) run between tiles
            await new Promise((r) => setImmediate(r));
          }
    } finally {
      src.dispose();
    }
    return { data: result, shape: [out[0], out[1], out[2], c] };
  }

  /** The output tile `[lo, hi)` (feature voxels) as a `[tz, ty, tx, C]` tensor. */
  #tile(src: tf.Tensor4D, sizes: Vec3[], lo: Vec3, hi: Vec3): tf.Tensor4D {
    // Walk back through the chain: the output range each conv must produce, and the
    // (unclipped) input range it needs; parts outside the volume are its zero padding.
    const needs: { lo: Vec3; hi: Vec3 }[] = [];
    let rLo = lo;
    let rHi = hi;
    let ci = sizes.length;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const st = this.steps[i];
      if (st.kind !== "conv") continue;
      ci--;
      const size = sizes[ci];
      const inLo = [0, 0, 0] as Vec3;
      const inHi = [0, 0, 0] as Vec3;
      for (let a = 0; a < 3; a++) {
        const { pad } = convOut(st, a, size[a]);
        inLo[a] = rLo[a] * st.s[a] - pad;
        inHi[a] = (rHi[a] - 1) * st.s[a] - pad + st.k[a];
      }
      needs[ci] = { lo: inLo, hi: inHi };
      rLo = inLo.map((v) => Math.max(0, v)) as Vec3;
      rHi = inHi.map((v, a) => Math.min(size[a], v)) as Vec3;
    }
    // Each step in its own tidy, the previous activation released at once: a tile's memory
    // is its largest step (input + output), not the sum over the chain.
    let x: tf.Tensor4D = tf.slice(
      src,
      [rLo[0], rLo[1], rLo[2], 0],
      [rHi[0] - rLo[0], rHi[1] - rLo[1], rHi[2] - rLo[2], 1],
    );
    let have = { lo: rLo, hi: rHi };
    let ci2 = 0;
    for (const st of this.steps) {
      const prev = x;
      if (st.kind === "pointwise") {
        x = tf.tidy(
          () => (st.layer.apply(prev.expandDims(0)) as tf.Tensor).squeeze([0]) as tf.Tensor4D,
        );
        prev.dispose();
        continue;
      }
      const need = needs[ci2++];
      const pads = [0, 1, 2].map((a) => [have.lo[a] - need.lo[a], need.hi[a] - have.hi[a]]) as [
        number,
        number,
      ][];
      if (st.activation !== "relu" && st.activation !== "linear")
        throw new ClassifierError(
          "ENCODER_NOT_SEQUENTIAL",
          `conv ${st.name}: activation ${st.activation} is not supported by the tiler`,
        );
      x = tf.tidy(() => {
        const padded = pads.some(([b, e]) => b !== 0 || e !== 0)
          ? tf.pad(prev, [...pads, [0, 0]])
          : prev;
        let y = tf.conv3d(padded.expandDims(0) as tf.Tensor5D, st.kernel, st.s, "valid");
        if (st.bias) y = tf.add(y, st.bias);
        if (st.activation === "relu") y = tf.relu(y);
        return y.squeeze([0]) as tf.Tensor4D;
      });
      prev.dispose();
      const outLo = [0, 1, 2].map(
        (a) => (need.lo[a] + convOut(st, a, sizes[ci2 - 1][a]).pad) / st.s[a],
      ) as Vec3;
      have = { lo: outLo, hi: outLo.map((v, a) => v + x.shape[a]) as Vec3 };
    }
    return x;
  }

  /**
   * Peak bytes of one interior tile of `t^3` output voxels: the largest step's input (padded)
   * plus output activation, float32.
   */
  tileBytes(t: number): number {
    let edge = t;
    let ch = this.geometry.channels;
    let peak = 0;
    for (let i = this.steps.length - 1; i >= 0; i--) {
      const st = this.steps[i];
      if (st.kind !== "conv") continue;
      const inEdge = (edge - 1) * st.s[0] + st.k[0];
      const cin = st.kernel.shape[3];
      peak = Math.max(peak, 4 * (inEdge ** 3 * cin * 2 + edge ** 3 * ch));
      edge = inEdge;
      ch = cin;
    }
    return peak;
  }

  /** The largest cubic tile (output voxels, at most 32) whose {@link tileBytes} fit `maxBytes`. */
  tileFor(maxBytes: number): number {
    let t = 1;
    while (t < 32 && this.tileBytes(t + 1) <= maxBytes) t++;
    return t;
  }

  /** Releases the weight copies. */
  dispose(): void {
    for (const st of this.steps) {
      if (st.kind === "conv") {
        st.kernel.dispose();
        st.bias?.dispose();
      }
    }
  }
}

/** Output size and front padding of a conv step along one axis for input length `n`. */
function convOut(
  st: Extract<Step, { kind: "conv" }>,
  a: number,
  n: number,
): { n: number; pad: number } {
  const k = st.k[a];
  const s = st.s[a];
  if (!st.same) return { n: Math.floor((n - k) / s) + 1, pad: 0 };
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + k - n, 0);
  return { n: out, pad: Math.floor(total / 2) };
}

function toStep(layer: tf.layers.Layer): Step {
  const cls = layer.getClassName();
  if (cls === "Conv3D") {
    const cfg = layer.getConfig() as {
      kernelSize: number | number[];
      strides: number | number[];
      padding: string;
      dilationRate?: number | number[];
      activation?: string;
      useBias?: boolean;
      dataFormat?: string;
    };
    const vec = (v: number | number[]): Vec3 =>
      (typeof v === "number" ? [v, v, v] : [v[0], v[1], v[2]]) as Vec3;
    const dil = vec(cfg.dilationRate ?? 1);
    if (dil.some((d) => d !== 1) || (cfg.dataFormat && cfg.dataFormat !== "channelsLast"))
      throw new ClassifierError(
        "ENCODER_NOT_SEQUENTIAL",
        `conv ${layer.name}: dilated or channels-first convs are not supported by the tiler`,
      );
    const [w, b] = layer.getWeights();
    return {
      kind: "conv",
      name: layer.name,
      kernel: tf.clone(w) as tf.Tensor5D,
      bias: b ? (tf.clone(b) as tf.Tensor1D) : undefined,
      k: vec(cfg.kernelSize),
      s: vec(cfg.strides),
      same: cfg.padding === "same",
      activation: cfg.activation ?? "linear",
    };
  }
  if (POINTWISE.has(cls)) return { kind: "pointwise", name: layer.name, layer };
  throw new ClassifierError(
    "ENCODER_NOT_SEQUENTIAL",
    `encoder layer ${layer.name} (${cls}) is neither a 3D conv nor point-wise; the tiler cannot split it`,
    { layer: layer.name },
  );
}
