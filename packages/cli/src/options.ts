import fs from "node:fs/promises";

/** A flag or config file the user got wrong: printed without a stack, exit 1. */
export class UsageError extends Error {
  readonly _tag = "UsageError";
}

/** An integer flag in `[min, max]` (undefined when the flag was not given). */
export function intOption(flag: string, v: string, min?: number, max?: number): number;
export function intOption(
  flag: string,
  v: string | undefined,
  min?: number,
  max?: number,
): number | undefined;
export function intOption(
  flag: string,
  v: string | undefined,
  min = Number.NEGATIVE_INFINITY,
  max = Number.POSITIVE_INFINITY,
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) {
    const range =
      min > Number.NEGATIVE_INFINITY && max < Number.POSITIVE_INFINITY
        ? ` in ${min}..${max}`
        : min > Number.NEGATIVE_INFINITY
          ? ` >= ${min}`
          : "";
    throw new UsageError(`--${flag}: expected an integer${range}, got "${v}"`);
  }
  return n;
}

/** A finite number flag passing `check` (described by `what`), undefined when not given. */
export function numberOption(
  flag: string,
  v: string,
  check?: (n: number) => boolean,
  what?: string,
): number;
export function numberOption(
  flag: string,
  v: string | undefined,
  check?: (n: number) => boolean,
  what?: string,
): number | undefined;
export function numberOption(
  flag: string,
  v: string | undefined,
  check: (n: number) => boolean = () => true,
  what = "a number",
): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${flag}: expected ${what}, got "${v}"`);
  return n;
}

/** A comma-separated list flag (trimmed, empty items dropped). */
export function listOption(v: string | undefined): string[] | undefined {
  return v
    ?.split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Reads a JSON run configuration; unreadable or invalid JSON is a usage error naming the file. */
export async function readJsonConfig(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file} is not a valid JSON configuration: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (typeof v !== "object" || v === null || Array.isArray(v))
    throw new UsageError(`${file} is not a valid JSON configuration: expected a JSON object`);
  return v as Record<string, unknown>;
}

/**
 * The one error ending of every command: a usage error prints `lungflow <cmd>: message`, a
 * lungflow error `lungflow <cmd>: CODE message`; both exit 1. Anything else is a bug and
 * propagates (bin.ts prints it and exits 1).
 */
export async function runAction(cmd: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`lungflow ${cmd}: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    // Loaded here, not at the top: registering the commands stays light (--help, --version).
    const { isLungflowError } = await import("@lungflow/volume");
    if (isLungflowError(err)) {
      console.error(`lungflow ${cmd}: ${err.code}: ${err.message}`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}
