import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** A loaded addon, or why it could not be loaded. */
export type AddonLoadResult<T> = { addon: T; path: string } | { error: string; path: string };

const cache = new Map<string, AddonLoadResult<unknown>>();

/**
 * Loads a node-gyp addon once per path, for lungflow's native packages (built by
 * `tools/build-native.mjs`). Never throws: a missing or broken binary gives `{ error }` naming
 * the file and why (the build log's reason when the build failed, from
 * `build/native-build-error.txt`), with `pkg` in the rebuild hint.
 */
export function loadNativeAddon<T>(file: string, pkg: string): AddonLoadResult<T> {
  const hit = cache.get(file);
  if (hit) return hit as AddonLoadResult<T>;
  let result: AddonLoadResult<T>;
  if (!fs.existsSync(file)) {
    const errFile = path.join(path.dirname(file), "..", "native-build-error.txt");
    const why = fs.existsSync(errFile)
      ? `the native build failed: ${fs.readFileSync(errFile, "utf8").trim().split("\n").slice(-3).join(" | ")}`
      : `it was not built (run \`pnpm --filter ${pkg} build\`; needs node-gyp and a C++17 compiler)`;
    result = { error: `no native addon at ${file}: ${why}`, path: file };
  } else {
    try {
      result = { addon: createRequire(import.meta.url)(file) as T, path: file };
    } catch (err) {
      result = {
        error: `native addon ${file} failed to load: ${(err as Error).message.split("\n")[0]}`,
        path: file,
      };
    }
  }
  cache.set(file, result);
  return result;
}
