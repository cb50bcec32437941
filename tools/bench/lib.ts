/**
 * Shared helpers for benchmarks. Every benchmark ends by calling `report`, which prints the
 * one JSON line `pnpm bench` promises: {"bench", "results": [{case, metric, value, unit, ...config}]}.
 */
export interface BenchResult {
  case: string;
  metric: string;
  value: number;
  unit: string;
  [config: string]: unknown;
}

/** True when `--quick` was passed: the benchmark must finish in under a minute. */
export const quick = process.argv.includes("--quick");

/** Peak resident set size of this process so far, in MiB. */
export function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

/** Runs `fn` `reps` times after `warmup` runs and returns the per-run milliseconds (sorted). */
export async function timeIt(fn: () => unknown | Promise<unknown>, reps = 3, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Prints the closing JSON line (adds the peak-RSS metric if the caller did not). */
export function report(bench: string, results: BenchResult[]): void {
  if (!results.some((r) => r.metric === "peak_rss")) {
    results.push({ case: "process", metric: "peak_rss", value: Math.round(peakRssMiB()), unit: "MiB" });
  }
  console.log(JSON.stringify({ bench, results }));
}
