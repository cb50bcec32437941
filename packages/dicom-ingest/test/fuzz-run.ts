/**
 * The long fuzz run, outside the suite: `pnpm --filter @lungflow/dicom-ingest fuzz --n 200000
 * [--seed 1] [--syntax jpegls]`. Mutates files of small series in every transfer syntax (as
 * test/fuzz.test.ts does, with more files) and counts the outcomes per syntax. Fails (exit 1)
 * on the first input that ends as anything but a volume or a DicomError, or as READ_FAILED /
 * INTERNAL (nothing here fails to read from disk); prints the counts and the time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { discoverSeries, isDicomError, readSeries } from "../src/index.ts";
import { mutate } from "./helpers/mutate.ts";
import { rng, tempDir } from "./helpers/series.ts";
import { SYNTAXES, writeSyntaxSeries } from "./helpers/syntax-series.ts";

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const total = Number(arg("n", "20000"));
const seed = Number(arg("seed", "1"));
const only = arg("syntax", "");
const names = Object.keys(SYNTAXES).filter((n) => !only || n === only);
const tmp = tempDir("dicom-fuzz-run-");
const t0 = performance.now();
const table: Record<string, Record<string, number>> = {};
let failures = 0;
try {
  for (const [i, name] of names.entries()) {
    const per = Math.floor(total / names.length) + (i < total % names.length ? 1 : 0);
    const dir = path.join(tmp.dir, name);
    const { files } = await writeSyntaxSeries(dir, name, { seed: seed + i });
    const r = rng(seed * 7919 + i);
    const counts: Record<string, number> = {};
    const t = performance.now();
    for (let k = 0; k < per; k++) {
      const victim = files[k % files.length];
      const original = readFileSync(victim);
      const bytes = mutate(original, r);
      writeFileSync(victim, bytes);
      let outcome = "ok";
      try {
        await readSeries(dir);
        await discoverSeries(dir);
      } catch (e) {
        outcome = isDicomError(e) ? e.code : `NOT_A_DICOM_ERROR`;
        if (!isDicomError(e) || isDicomError(e, "READ_FAILED", "INTERNAL")) {
          failures++;
          const keep = path.join(process.cwd(), `fuzz-failure-${name}-${k}.dcm`);
          writeFileSync(keep, bytes);
          console.error(
            `${name} #${k}: ${e instanceof Error ? e.stack : String(e)} (input: ${keep})`,
          );
        }
      }
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      writeFileSync(victim, original);
    }
    counts["ms/file"] = +((performance.now() - t) / per).toFixed(2);
    table[name] = counts;
    console.log(name, JSON.stringify(counts));
  }
} finally {
  tmp.cleanup();
}
console.log(
  `${total} mutated files in ${names.length} transfer syntaxes, seed ${seed}: ${failures} failure(s), ${((performance.now() - t0) / 1000).toFixed(1)} s`,
);
process.exitCode = failures ? 1 : 0;
