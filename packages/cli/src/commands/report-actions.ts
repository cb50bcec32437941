import { writeReport } from "@lungflow/report";
import { intOption } from "../options.js";
import type { ReportCli } from "./report.js";

export async function report(o: ReportCli): Promise<void> {
  const maxImages = intOption("max-images", o.maxImages, 0);
  const r = await writeReport({ ...o, maxImages });
  console.log(
    `report: ${r.file} (${r.patients} patients, ${r.images} slice images${r.auc === undefined ? "" : `, AUC ${r.auc.toFixed(3)}`})`,
  );
}
