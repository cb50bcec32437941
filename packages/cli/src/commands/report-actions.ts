import { writeReport } from "@lungflow/report";
import type { ReportCli } from "./report.js";

export async function report(o: ReportCli): Promise<void> {
  const maxImages = Number(o.maxImages);
  if (!Number.isInteger(maxImages) || maxImages < 0)
    throw new Error(`--max-images must be a whole number, got ${o.maxImages}`);
  const r = await writeReport({ ...o, maxImages });
  console.log(
    `report: ${r.file} (${r.patients} patients, ${r.images} slice images${r.auc === undefined ? "" : `, AUC ${r.auc.toFixed(3)}`})`,
  );
}
