import * as fs from "node:fs/promises";
import * as path from "node:path";
import { openStore, type PatchStore } from "@lungflow/patch-store";
import { intOption, numberOption } from "../options.js";
import type { StoreJsonCli, StoreLabelsCli, StoreSplitCli } from "./store.js";

/** Prints rows as an aligned text table. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => c.padEnd(w[i]))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Bytes under a folder (files only). */
async function diskBytes(dir: string): Promise<number> {
  let n = 0;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) n += await diskBytes(p);
    else if (e.isFile()) n += (await fs.stat(p)).size;
  }
  return n;
}

/** Symmetry indices as ranges: `[0,1,2,5,7,8]` -> `0-2,5,7-8`. */
function symmetryRanges(ks: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ks.length; ) {
    let j = i;
    while (j + 1 < ks.length && ks[j + 1] === ks[j] + 1) j++;
    parts.push(j > i ? `${ks[i]}-${ks[j]}` : `${ks[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

function splitOf(store: PatchStore, id: string): string {
  const s = store.split;
  if (!s) return "";
  if (s.train.includes(id)) return "train";
  if (s.validation.includes(id)) return "validation";
  if (s.test.includes(id)) return "test";
  return "";
}

/** The `store ls` action. */
export async function storeLs(storePath: string, o: StoreJsonCli): Promise<void> {
  const s = await openStore(storePath);
  const pats = await s.patients();
  if (o.json) {
    console.log(JSON.stringify(pats.map((p) => ({ ...p, split: splitOf(s, p.id) || undefined }))));
    return;
  }
  console.log(
    table(
      ["id", "shape (z,y,x)", "label", "split", "slices", "source spacing", "otsu", "ingested"],
      pats.map((p) => [
        p.id,
        p.shape.join("x"),
        p.label ?? "-",
        splitOf(s, p.id) || "-",
        p.fileCount,
        p.sourceSpacing.map((x) => x.toFixed(2)).join("/"),
        p.otsuThreshold,
        p.ingestedAt.replace("T", " ").slice(0, 19),
      ]),
    ),
  );
  console.log(`${pats.length} patient(s)`);
}

/** The `store info` action. */
export async function storeInfo(storePath: string, o: StoreJsonCli): Promise<void> {
  const s = await openStore(storePath);
  const ids = await s.listPatients();
  const labels = s.rootAttrs.labels;
  const lab = ids.filter((id) => labels[id] !== undefined);
  const pos = lab.filter((id) => labels[id] === 1).length;
  const split = s.split;
  const info = {
    store: s.root,
    schema: s.rootAttrs.schema,
    createdAt: s.rootAttrs.createdAt,
    params: s.params,
    patients: ids.length,
    labelled: lab.length,
    positives: pos,
    split: split
      ? {
          seed: split.seed,
          validationFraction: split.validationFraction,
          train: split.train.length,
          validation: split.validation.length,
          test: split.test.length,
          createdAt: split.createdAt,
        }
      : null,
    features: await s.featureSets(),
    diskBytes: await diskBytes(s.root),
    leftovers: await s.leftovers(),
  };
  if (o.json) {
    console.log(JSON.stringify(info));
    return;
  }
  console.log(`store       ${info.store} (schema ${info.schema}, created ${info.createdAt})`);
  console.log(
    `patients    ${info.patients} (${info.labelled} labelled: ${pos} cancer, ${lab.length - pos} no cancer)`,
  );
  console.log(
    `split       ${info.split ? `train ${info.split.train} / validation ${info.split.validation} / test ${info.split.test} (seed ${info.split.seed})` : "none (lungflow store split)"}`,
  );
  if (!info.features.length) console.log("features    none (lungflow features)");
  for (const f of info.features) {
    console.log(
      `features    ${f.encoderId}: ${f.patients} patient(s), ${f.arrays} array(s), symmetries ${symmetryRanges(f.symmetries)} (${f.complete} patient(s) with all 48)`,
    );
  }
  console.log(`on disk     ${(info.diskBytes / 1048576).toFixed(1)} MiB`);
  console.log(`params      ${JSON.stringify(info.params)}`);
  if (info.leftovers.length)
    console.log(`leftovers   ${info.leftovers.length} (cleaned by the next ingest)`);
}

/** The `store verify` action. */
export async function storeVerify(storePath: string, o: StoreJsonCli): Promise<void> {
  const s = await openStore(storePath);
  const r = await s.verify();
  if (o.json) console.log(JSON.stringify(r));
  else {
    // A feature problem's message starts with its array (features/<encoder>/s<k>).
    for (const p of r.problems)
      console.log(`CORRUPT ${p.patientId ?? "-"} ${p.code}: ${p.message}`);
    for (const w of r.warnings) console.log(`warning: ${w}`);
    if (r.leftovers.length)
      console.log(
        `note: ${r.leftovers.length} leftover(s) of a crashed write (cleaned by the next ingest)`,
      );
    const f = r.features;
    const feat = f.arrays
      ? `, ${f.arrays} feature array(s) in ${f.sets} patient/encoder set(s) (${f.chunks} chunk(s), ${(f.bytes / 1048576).toFixed(1)} MiB decoded)`
      : "";
    console.log(
      `${r.ok ? "OK" : "CORRUPT"}: ${r.patients} patient(s), ${r.chunks} chunk(s), ${(r.bytes / 1048576).toFixed(1)} MiB decoded${feat}, ${r.problems.length} problem(s)`,
    );
  }
  if (!r.ok) process.exitCode = 2;
}

/** The `store labels` action. */
export async function storeLabels(
  storePath: string,
  csv: string,
  o: StoreLabelsCli,
): Promise<void> {
  const s = await openStore(storePath);
  const text = await fs.readFile(csv, "utf8");
  const r = await s.importLabels(text, {
    file: csv,
    unknown: o.ignoreUnknown ? "ignore" : "error",
    replace: o.replace,
  });
  if (o.json) console.log(JSON.stringify(r));
  else
    console.log(
      `imported ${r.count} label(s), ${r.changed} changed${r.ignored.length ? `, ${r.ignored.length} unknown id(s) ignored` : ""}`,
    );
}

/** The `store split` action. */
export async function storeSplit(storePath: string, o: StoreSplitCli): Promise<void> {
  const seed = intOption("seed", o.seed);
  const validationFraction = numberOption("validation-fraction", o.validationFraction);
  const s = await openStore(storePath);
  const sp = await s.makeSplit({ seed, validationFraction });
  if (o.json) console.log(JSON.stringify(sp));
  else {
    const labels = s.rootAttrs.labels;
    const pos = (xs: string[]) => xs.filter((id) => labels[id] === 1).length;
    console.log(
      table(
        ["set", "patients", "cancer"],
        [
          ["train", sp.train.length, pos(sp.train)],
          ["validation", sp.validation.length, pos(sp.validation)],
          ["test", sp.test.length, "-"],
        ],
      ),
    );
  }
}
