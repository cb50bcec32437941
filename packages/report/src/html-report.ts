import fs from "node:fs/promises";
import path from "node:path";
import { binaryReport, parseSubmissionCsv, rocCurve } from "@lungflow/classifier";
import { openStore, type PatientAttrs, parseLabelsCsv } from "@lungflow/patch-store";
import { lineChartSvg, rocChartSvg, type Series } from "./charts.js";
import { readNumericCsv, type Table } from "./csv.js";
import { type SliceAxis, slicePng } from "./slices.js";

export interface ReportOptions {
  /** The patch store (Zarr directory). */
  store: string;
  /**
   * Folder of training runs: every sub-folder with an `epochs.csv` becomes a loss chart; a
   * `reconstruction.png` in any run is shown as the reconstruction mosaic.
   */
  runs: string;
  /** Output folder (created); the report is `index.html` beside its images. */
  out: string;
  /** Kaggle-format predictions (`id,cancer`), shown per patient and scored on labelled ones. */
  predictions?: string;
  /** Labels for scoring (default: the store's labels). */
  labels?: string;
  /** `timings.json`: `[{stage, seconds}]` (the demo writes one). */
  timings?: string;
  /** Patients with slice images (default 48; the table always lists everyone). */
  maxImages?: number;
  title?: string;
}

export interface ReportResult {
  file: string;
  patients: number;
  images: number;
  auc?: number;
}

interface Row {
  attrs: PatientAttrs;
  lungMl?: number;
  label?: number;
  prediction?: number;
}

/**
 * Writes a static HTML report (no network needed to view it): cohort table, per-patient axial,
 * coronal and sagittal slices with the lung-mask outline, loss curves of every run, the
 * reconstruction mosaic, the ROC curve and timings per stage. Images are PNG files, plots SVG.
 */
export async function writeReport(o: ReportOptions): Promise<ReportResult> {
  await fs.mkdir(path.join(o.out, "img"), { recursive: true });
  const store = await openStore(o.store);
  const patients = await store.patients();
  // Same validation as `lungflow evaluate`: a malformed file is an error naming its lines.
  const preds = o.predictions
    ? parseSubmissionCsv(await fs.readFile(o.predictions, "utf8"), o.predictions)
    : undefined;
  const extLabels = o.labels
    ? parseLabelsCsv(await fs.readFile(o.labels, "utf8"), o.labels)
    : undefined;
  const maxImages = o.maxImages ?? 48;
  const rows: Row[] = [];
  let images = 0;
  const sections: string[] = [];
  const gallery: string[] = [];
  for (const attrs of patients) {
    const row: Row = {
      attrs,
      label: extLabels?.get(attrs.id) ?? attrs.label,
      prediction: preds?.get(attrs.id),
    };
    if (images < maxImages * 3) {
      const hu = await store.readVolume(attrs.id, "hu");
      const mask = await store.readVolume(attrs.id, "mask");
      row.lungMl = mask.data.reduce((s, v) => s + v, 0) / 1000;
      const cells: string[] = [];
      for (const axis of ["axial", "coronal", "sagittal"] as SliceAxis[]) {
        const file = `img/${safe(attrs.id)}_${axis}.png`;
        await fs.writeFile(path.join(o.out, file), slicePng(hu, mask, axis));
        cells.push(
          `<figure><img src="${file}" alt="${esc(attrs.id)} ${axis}"><figcaption>${axis}</figcaption></figure>`,
        );
        images++;
      }
      gallery.push(
        `<div class="patient"><h3>${esc(attrs.id)}${labelBadge(row)}</h3><div class="views">${cells.join("")}</div></div>`,
      );
    } else if (typeof attrs.extra?.lungVolumeMl === "number") {
      row.lungMl = attrs.extra.lungVolumeMl;
    }
    rows.push(row);
  }

  // headline numbers and ROC on patients that have both a label and a prediction
  const scored = rows.filter((r) => r.label !== undefined && r.prediction !== undefined);
  let auc: number | undefined;
  if (scored.length > 0) {
    const ys = scored.map((r) => r.label!);
    const ps = scored.map((r) => r.prediction!);
    const binary = binaryReport(ys, ps);
    auc = binary.auc;
    await fs.writeFile(
      path.join(o.out, "img/roc.svg"),
      await rocChartSvg(rocCurve(ys, ps), binary.auc, `ROC on ${scored.length} patients`),
    );
    sections.push(`<section id="roc"><h2>Classifier on held-out patients</h2>
<table class="kv"><tr><th>patients scored</th><td>${scored.length}</td></tr><tr><th>ROC AUC</th><td id="auc">${fmt(binary.auc, 3)}</td></tr>
<tr><th>log loss</th><td>${fmt(binary.logLoss, 4)}</td></tr><tr><th>accuracy (p &ge; 0.5)</th><td>${fmt(binary.accuracy, 3)}</td></tr></table>
<img src="img/roc.svg" alt="ROC curve"></section>`);
  }

  sections.push(`<section id="cohort"><h2>Cohort (${rows.length} patients)</h2><table class="cohort"><thead><tr>
<th>patient</th><th>slices</th><th>source spacing (mm)</th><th>stored shape</th><th>lung volume (ml)</th><th>label</th><th>prediction</th></tr></thead><tbody>
${rows
  .map(
    (
      r,
    ) => `<tr><td>${esc(r.attrs.id)}</td><td>${r.attrs.sourceShape[0]}</td><td>${r.attrs.sourceSpacing.map((s) => s.toFixed(2)).join(" &times; ")}</td>
<td>${r.attrs.shape.join(" &times; ")}</td><td>${r.lungMl === undefined ? "" : r.lungMl.toFixed(0)}</td><td>${r.label ?? ""}</td><td>${r.prediction === undefined ? "" : r.prediction.toFixed(3)}</td></tr>`,
  )
  .join("\n")}</tbody></table></section>`);

  // loss curves of every run
  const runCharts: string[] = [];
  let mosaic: string | undefined;
  for (const run of await listDirs(o.runs)) {
    const table = await readNumericCsv(path.join(o.runs, run, "epochs.csv"));
    if (table && table.rows.length > 0) {
      const file = `img/loss_${safe(run)}.svg`;
      await fs.writeFile(
        path.join(o.out, file),
        await lineChartSvg(lossSeries(table), {
          title: `${run}: loss per epoch`,
          xTitle: "epoch",
          yTitle: "loss",
        }),
      );
      runCharts.push(
        `<figure><img src="${file}" alt="${esc(run)} loss curves"><figcaption>${esc(run)}</figcaption></figure>`,
      );
    }
    for (const name of ["reconstruction.png", "reconstructions.png", "mosaic.png"]) {
      const src = path.join(o.runs, run, name);
      if (!mosaic && (await exists(src))) {
        mosaic = `img/${safe(run)}_${name}`;
        await fs.copyFile(src, path.join(o.out, mosaic));
      }
    }
  }
  sections.push(
    `<section id="training"><h2>Training</h2>${runCharts.join("") || "<p>No runs with epochs.csv found.</p>"}</section>`,
  );
  if (mosaic) {
    sections.push(
      `<section id="reconstruction"><h2>GMCAE reconstructions</h2><p>Each row: original patch slices, then the model's reconstruction (per voxel the mean of the component with the largest prior / sigma).</p><img src="${mosaic}" alt="reconstruction mosaic"></section>`,
    );
  }
  if (o.timings) {
    const t = JSON.parse(await fs.readFile(o.timings, "utf8")) as {
      stage: string;
      seconds: number;
    }[];
    sections.push(`<section id="timings"><h2>Timings</h2><table class="kv">${t.map((s) => `<tr><th>${esc(s.stage)}</th><td>${s.seconds.toFixed(1)} s</td></tr>`).join("")}
<tr><th>total</th><td>${t.reduce((a, s) => a + s.seconds, 0).toFixed(1)} s</td></tr></table></section>`);
  }
  sections.push(
    `<section id="patients"><h2>Patients</h2><p>Lung mask outline in red; coronal and sagittal views head up.</p>${gallery.join("\n")}</section>`,
  );

  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(o.title ?? "lungflow report")}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:14px}.cohort td{font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:4px;text-align:center}figcaption{font-size:12px;color:#666}.patient{margin:1em 0}
.views img{image-rendering:pixelated;max-height:260px}.badge{font-size:12px;padding:1px 6px;border-radius:8px;margin-left:8px;background:#eee}</style></head>
<body><h1>${esc(o.title ?? "lungflow report")}</h1><p>Store <code>${esc(path.resolve(o.store))}</code>, generated ${new Date().toISOString()}.</p>
${sections.join("\n")}</body></html>`;
  const file = path.join(o.out, "index.html");
  await fs.writeFile(file, html);
  return { file, patients: rows.length, images, auc };
}

/** Every column named like a loss, plotted against the first column (the epoch). */
function lossSeries(t: Table): Series[] {
  const xi = 0;
  return t.columns
    .map((name, i) => ({ name, i }))
    .filter(({ name, i }) => i !== xi && /loss|nll/i.test(name) && !/best/i.test(name))
    .map(({ name, i }) => ({ name, points: t.rows.map((r) => [r[xi], r[i]] as const) }))
    .filter((s) => s.points.some(([, y]) => Number.isFinite(y)));
}

function labelBadge(r: Row): string {
  const parts = [];
  if (r.label !== undefined) parts.push(`label ${r.label}`);
  if (r.prediction !== undefined) parts.push(`p = ${r.prediction.toFixed(2)}`);
  return parts.length ? `<span class="badge">${parts.join(", ")}</span>` : "";
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await fs.readdir(dir, { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.access(p).then(
    () => true,
    () => false,
  );
}

function fmt(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "n/a";
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, "_");
}

function esc(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}
