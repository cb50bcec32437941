import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { TfRuntimeError } from "./errors.js";
import { registerFastCpuKernels } from "./fast-kernels/index.js";
import { registerConv3dGradients } from "./gradients.js";
import { loadNativeConv3d } from "./native-conv3d.js";

/** Backends lungflow can run on, best first. `wasm` is refused (wrong 3D conv gradients). */
export type BackendChoice = "node-gpu" | "node" | "cpu";

export interface InitTfOptions {
  /**
   * Force a backend (`node-gpu`, `node`, `cpu`); otherwise `LUNGFLOW_BACKEND`, otherwise the
   * best that loads. A forced backend that cannot load throws `BACKEND_UNAVAILABLE`.
   */
  backend?: string;
  /** Do not print the choice to stderr (default false: printed once per process). */
  quiet?: boolean;
  /** Environment to read `LUNGFLOW_BACKEND` / `LUNGFLOW_NATIVE_CONV3D` from (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface TfInfo {
  /** The backend in use. */
  backend: BackendChoice;
  /** tfjs's own backend name (`tensorflow` for both node backends, `cpu`). */
  tfBackend: string;
  /** Why this backend (what was tried and failed), plus the native conv3d kernel status. */
  reason: string;
  /** True when the native 3D conv kernels (`@lungflow/tfjs-conv3d-native`) are active. */
  nativeConv3d: boolean;
}

const ORDER: BackendChoice[] = ["node-gpu", "node", "cpu"];
const MODULES: Record<"node-gpu" | "node", string> = {
  "node-gpu": "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
};

let current: Promise<TfInfo> | undefined;
let currentKey = "";
let printed = false;

function parseChoice(name: string, source: string): BackendChoice {
  const n = name.trim().toLowerCase();
  if (n === "wasm") {
    throw new TfRuntimeError(
      "BACKEND_REFUSED",
      `backend "wasm" (from ${source}) is refused: tfjs-backend-wasm 4.22 computes 3D convolution gradients wrong (Conv3DBackpropInputV2, Conv3DBackpropFilterV2 at stride 2); use "cpu"`,
      { backend: n, source },
    );
  }
  if (n === "tensorflow") return "node";
  if ((ORDER as string[]).includes(n)) return n as BackendChoice;
  throw new TfRuntimeError(
    "BAD_BACKEND",
    `unknown backend "${name}" (from ${source}); expected one of ${ORDER.join(", ")}`,
    { backend: name, source },
  );
}

/** Tries to load a libtensorflow binding; resolves an error message when it cannot. */
async function tryNode(choice: "node-gpu" | "node"): Promise<string | undefined> {
  const mod = MODULES[choice];
  // Check for the native binding before importing: a failed import of tfjs-node still
  // registers hundreds of kernels (and warnings) before it throws.
  let pkgDir: string;
  try {
    pkgDir = path.dirname(createRequire(import.meta.url).resolve(`${mod}/package.json`));
  } catch {
    return `${mod} not installed`;
  }
  const lib = path.join(pkgDir, "lib");
  const hasBinding =
    fs.existsSync(lib) &&
    fs.readdirSync(lib).some((d) => fs.existsSync(path.join(lib, d, "tfjs_binding.node")));
  if (!hasBinding)
    return `${mod} installed without its libtensorflow binding (install script not run)`;
  try {
    // A computed specifier keeps bundlers and tsc from requiring the optional package.
    await import(/* @vite-ignore */ mod);
  } catch (err) {
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    return /Cannot find (package|module) '@tensorflow/.test(msg) && !msg.includes("binding")
      ? `${mod} not installed`
      : `${mod} did not load (${msg.slice(0, 160)})`;
  }
  if (tf.findBackend("tensorflow") === undefined) {
    return `${mod} loaded but registered no "tensorflow" backend in this tfjs instance (version mismatch?)`;
  }
  const ok = await tf.setBackend("tensorflow");
  return ok ? undefined : `${mod} loaded but its backend failed to initialise`;
}

async function init(opts: InitTfOptions): Promise<TfInfo> {
  const env = opts.env ?? process.env;
  const forcedRaw = opts.backend ?? env.LUNGFLOW_BACKEND;
  const source = opts.backend !== undefined ? "--backend" : "LUNGFLOW_BACKEND";
  const forced = forcedRaw ? parseChoice(forcedRaw, source) : undefined;
  const tried: string[] = [];
  let chosen: BackendChoice | undefined;
  for (const choice of forced ? [forced] : ORDER) {
    if (choice === "cpu") {
      await tf.setBackend("cpu");
      chosen = "cpu";
      break;
    }
    const failure = await tryNode(choice);
    if (failure === undefined) {
      chosen = choice;
      break;
    }
    if (forced) {
      throw new TfRuntimeError(
        "BACKEND_UNAVAILABLE",
        `backend "${choice}" requested by ${source} but ${failure}`,
        {
          backend: choice,
          source,
        },
      );
    }
    tried.push(failure);
  }
  await tf.ready();
  if (chosen === "cpu") {
    // tfjs's cpu backend prints a "install tfjs-node" banner on first use; our own line
    // (below) already says which backend runs and why.
    const b = tf.backend() as unknown as { firstUse?: boolean };
    if (b.firstUse) b.firstUse = false;
  }
  registerConv3dGradients();
  const parts: string[] = [];
  if (forced) parts.push(`forced by ${source}`);
  else if (tried.length) parts.push(tried.join("; "));
  let nativeConv3d = false;
  if (chosen === "cpu") {
    if (env.LUNGFLOW_FAST_KERNELS !== "0") {
      registerFastCpuKernels();
      parts.push("fast cpu kernels on");
    }
    if (env.LUNGFLOW_NATIVE_CONV3D === "0") {
      parts.push("native conv3d kernels off (LUNGFLOW_NATIVE_CONV3D=0)");
    } else {
      const r = await loadNativeConv3d();
      nativeConv3d = r.ok;
      parts.push(
        r.ok
          ? `native conv3d kernels on (${r.isa ?? "?"})`
          : `native conv3d kernels off (${r.reason})`,
      );
    }
  }
  return {
    backend: chosen!,
    tfBackend: tf.getBackend(),
    reason: parts.join("; ") || "best available",
    nativeConv3d,
  };
}

/**
 * Chooses and initialises the TensorFlow.js backend: `@tensorflow/tfjs-node-gpu` if it
 * loads, else `@tensorflow/tfjs-node`, else the plain JS `cpu` backend (with the native 3D
 * conv kernels of `@lungflow/tfjs-conv3d-native` when they load, unless
 * `LUNGFLOW_NATIVE_CONV3D=0`). `opts.backend` or `LUNGFLOW_BACKEND` forces one. Registers the
 * missing `Conv3DBackpropInputV2` gradient. Prints the choice and reason once to stderr.
 * Calling it again with the same options returns the same result.
 *
 * ```ts
 * const info = await initTf({ backend: "cpu" });
 * // lungflow: tfjs backend cpu (forced by --backend; native conv3d kernels off (...))
 * ```
 */
export function initTf(opts: InitTfOptions = {}): Promise<TfInfo> {
  const env = opts.env ?? process.env;
  const key = `${opts.backend ?? ""}|${env.LUNGFLOW_BACKEND ?? ""}|${env.LUNGFLOW_NATIVE_CONV3D ?? ""}`;
  if (current === undefined || key !== currentKey) {
    currentKey = key;
    current = init(opts).then((info) => {
      if (!opts.quiet && !printed) {
        printed = true;
        process.stderr.write(`lungflow: tfjs backend ${info.backend} (${info.reason})\n`);
      }
      return info;
    });
    current.catch(() => {
      current = undefined;
    });
  }
  return current;
}
