import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** One named series of (x, y) points for a line chart. */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface LineChartOptions {
  title?: string;
  xTitle: string;
  yTitle: string;
  /** Pixel size of the plotting area (default 420 x 260). */
  width?: number;
  height?: number;
  /** Fixed axis domains; by default they fit the data. */
  xDomain?: [number, number];
  yDomain?: [number, number];
  /** Draws the y = x diagonal (for ROC curves). */
  diagonal?: boolean;
}

/**
 * Renders a multi-series line chart to a standalone SVG string with Vega-Lite (headless:
 * no canvas, no browser, no network). Non-finite points are dropped.
 */
export async function lineChartSvg(
  series: readonly Series[],
  opts: LineChartOptions,
): Promise<string> {
  const values = series.flatMap((s) =>
    s.points
      .filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
      .map(([x, y], i) => ({ series: s.name, x, y, i })),
  );
  const scale = (domain?: [number, number]) => (domain ? { domain, zero: false } : { zero: false });
  const line = {
    mark: { type: "line" as const, point: values.length < 60 },
    encoding: {
      x: {
        field: "x",
        type: "quantitative" as const,
        title: opts.xTitle,
        scale: scale(opts.xDomain),
      },
      y: {
        field: "y",
        type: "quantitative" as const,
        title: opts.yTitle,
        scale: scale(opts.yDomain),
      },
      color: { field: "series", type: "nominal" as const, title: null },
      order: { field: "i", type: "quantitative" as const },
    },
  };
  const layers: unknown[] = [line];
  if (opts.diagonal) {
    layers.unshift({
      data: {
        values: [
          { x: 0, y: 0 },
          { x: 1, y: 1 },
        ],
      },
      mark: { type: "line", strokeDash: [4, 4], color: "#999" },
      encoding: {
        x: { field: "x", type: "quantitative" },
        y: { field: "y", type: "quantitative" },
      },
    });
  }
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: opts.title,
    width: opts.width ?? 420,
    height: opts.height ?? 260,
    background: "white",
    data: { values },
    layer: layers,
  } as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG string to PNG bytes (resvg; system fonts for the labels). */
export function svgToPng(svg: string, scale = 1.5): Buffer {
  const r = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true },
  });
  return Buffer.from(r.render().asPng());
}

/** A ROC curve chart (FPR on x, TPR on y, the chance diagonal dashed) with the AUC in the title. */
export async function rocChartSvg(
  points: ReadonlyArray<{ fpr: number; tpr: number }>,
  auc: number,
  title = "ROC",
): Promise<string> {
  return lineChartSvg(
    [
      {
        name: `AUC ${Number.isFinite(auc) ? auc.toFixed(3) : "n/a"}`,
        points: points.map((p) => [p.fpr, p.tpr] as const),
      },
    ],
    {
      title,
      xTitle: "False positive rate",
      yTitle: "True positive rate",
      xDomain: [0, 1],
      yDomain: [0, 1],
      diagonal: true,
      width: 300,
      height: 300,
    },
  );
}
