/**
 * @lungflow/report: pictures and the static HTML report.
 *
 * ```ts
 * import { rocChartSvg, svgToPng } from "@lungflow/report";
 * const png = svgToPng(await rocChartSvg([{ fpr: 0, tpr: 0 }, { fpr: 0, tpr: 1 }, { fpr: 1, tpr: 1 }], 1));
 * ```
 */

export type { LineChartOptions, Series } from "./charts.js";
export { lineChartSvg, rocChartSvg, svgToPng } from "./charts.js";
export type { ReportOptions, ReportResult } from "./html-report.js";
export { writeReport } from "./html-report.js";
export type { SliceAxis, SlicePngOptions } from "./slices.js";
export { slicePng } from "./slices.js";
