import { availableParallelism } from "node:os";
import { loadAddon } from "./load-addon.js";
import { makeKernelFuncs } from "./native-kernels.js";
import { selfCheck } from "./self-check.js";
import { KERNEL_NAMES, type KernelConfig, type KernelFunc, type Tf } from "./tf-types.js";

/** Options of `registerNativeConv3d`. */
export interface NativeConv3dOptions {
  /** Worker threads for the kernels (the calling thread counts). Default: os.availableParallelism(). */
  threads?: number;
  /**
   * Instruction set: "auto" (default; the best this CPU has: avx512 > avx2 > generic),
   * "avx512", "avx2", "generic", or "generic16" (portable code with the AVX-512 tile shapes,
   * for tests). Also read from LUNGFLOW_CONV3D_ISA.
   */
  isa?: string;
  /** Path of the compiled addon (tests use it to simulate a missing build). */
  addonPath?: string;
  /**
   * Keep freed tensor memory in the C heap for reuse (glibc: mmap threshold 1 GiB, trim
   * threshold 256 MiB; default true, also off with LUNGFLOW_KEEP_HEAP=0). tfjs's cpu backend
   * allocates every op's output fresh; with glibc's defaults each large one is new pages,
   * faulted in one by one (about 2 ms for an 8 MB activation, 100 ms for a 400 MB one).
   * Cost: freed blocks stay in the process for reuse (a classifier step on a 300x250x330
   * lung peaked at 5.3 GB RSS instead of 4.5).
   */
  keepHeap?: boolean;
}

/** What `registerNativeConv3d` reports. `ok: false` leaves tfjs's own kernels in place. */
export interface NativeConv3dStatus {
  ok: boolean;
  /** Why it is not ok, or what was registered. */
  reason: string;
  /** The instruction set of the kernels in use ("" when not ok). */
  isa: string;
  /** Threads the kernels use (0 when not ok). */
  threads: number;
}

const ISA_ORDER = ["avx512", "avx2", "generic"];
const MAX_SELF_CHECK_ERROR = 1e-4;

interface Registration {
  originals: Map<string, KernelConfig>;
  natives: Map<string, KernelConfig>;
}
const registrations = new WeakMap<object, Registration>();
/** Self-check results per addon path and ISA (the check costs a few ms; run it once). */
const checked = new Map<string, { err: number; note?: string }>();

function fail(reason: string): NativeConv3dStatus {
  return { ok: false, reason, isa: "", threads: 0 };
}

/**
 * Registers the native `Conv3D`, `Conv3DBackpropInputV2` and `Conv3DBackpropFilterV2`
 * kernels for tfjs's `cpu` backend, replacing tfjs's JS kernels (kept, and restored by
 * `unregisterNativeConv3d`). Never throws: when the addon is missing, fails to load, fails
 * its self-check, or LUNGFLOW_NATIVE_CONV3D=0, it returns `{ ok: false, reason }` and
 * changes nothing. Calling it again only updates threads/ISA.
 */
export function registerNativeConv3d(tf: Tf, opts: NativeConv3dOptions = {}): NativeConv3dStatus {
  if (process.env.LUNGFLOW_NATIVE_CONV3D === "0") {
    return fail("native conv3d disabled by LUNGFLOW_NATIVE_CONV3D=0");
  }
  const loaded = loadAddon(opts.addonPath);
  if ("error" in loaded) return fail(loaded.error);
  const addon = loaded.addon;
  const { supported } = addon.info();

  const wanted = opts.isa ?? process.env.LUNGFLOW_CONV3D_ISA ?? "auto";
  const candidates = wanted === "auto" ? ISA_ORDER.filter((i) => supported.includes(i)) : [wanted];
  if (wanted !== "auto" && !supported.includes(wanted)) {
    return fail(
      `ISA "${wanted}" is not available on this CPU (available: ${supported.join(", ")})`,
    );
  }
  const notes: string[] = [];
  let isa = "";
  for (const cand of candidates) {
    const key = `${loaded.path}\0${cand}`;
    let check = checked.get(key);
    if (!check) {
      try {
        check = { err: cand === "generic" ? 0 : selfCheck(addon, cand) };
      } catch (e) {
        check = { err: Infinity, note: `${cand}: ${(e as Error).message}` };
      }
      checked.set(key, check);
    }
    const err = check.err;
    if (check.note) notes.push(check.note);
    if (err <= MAX_SELF_CHECK_ERROR) {
      isa = cand;
      break;
    }
    notes.push(
      `${cand} kernels failed the self-check (relative error ${err.toExponential(2)}), not used`,
    );
  }
  if (!isa || !addon.setIsa(isa)) return fail(`no usable native kernels: ${notes.join("; ")}`);

  const requested = opts.threads ?? availableParallelism();
  const threads = addon.setThreads(Math.max(1, Math.floor(requested)));
  if ((opts.keepHeap ?? process.env.LUNGFLOW_KEEP_HEAP !== "0") && addon.keepHeap)
    addon.keepHeap(2 ** 30, 2 ** 28);

  let reg = registrations.get(tf);
  if (!reg) {
    const originals = new Map<string, KernelConfig>();
    for (const name of KERNEL_NAMES) {
      const cfg = tf.getKernel(name, "cpu");
      if (!cfg)
        return fail(`tfjs has no cpu kernel ${name} to replace (is the cpu backend registered?)`);
      originals.set(name, cfg);
    }
    const fallback: Record<string, KernelFunc> = {};
    for (const [name, cfg] of originals) fallback[name] = cfg.kernelFunc;
    const funcs = makeKernelFuncs(tf, addon, fallback);
    const natives = new Map<string, KernelConfig>();
    for (const name of KERNEL_NAMES) {
      natives.set(name, { kernelName: name, backendName: "cpu", kernelFunc: funcs[name] });
    }
    reg = { originals, natives };
    registrations.set(tf, reg);
  }
  for (const name of KERNEL_NAMES) {
    const native = reg.natives.get(name)!;
    if (tf.getKernel(name, "cpu") === native) continue;
    if (tf.getKernel(name, "cpu")) tf.unregisterKernel(name, "cpu");
    tf.registerKernel(native);
  }
  const extra = notes.length ? ` (${notes.join("; ")})` : "";
  return {
    ok: true,
    reason: `native conv3d kernels registered for the cpu backend: ${isa}, ${threads} thread(s)${extra}`,
    isa,
    threads,
  };
}

/**
 * Puts tfjs's own kernels back where the native ones are registered. Returns true if any
 * kernel was restored.
 */
export function unregisterNativeConv3d(tf: Tf): boolean {
  const reg = registrations.get(tf);
  if (!reg) return false;
  let restored = false;
  for (const name of KERNEL_NAMES) {
    if (tf.getKernel(name, "cpu") !== reg.natives.get(name)) continue;
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel(reg.originals.get(name)!);
    restored = true;
  }
  return restored;
}
