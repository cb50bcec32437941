import { readIdCancerCsv } from "@lungflow/patch-store";
import { ViewerError } from "./errors.js";

/**
 * Reads Kaggle-format predictions (`id,cancer`, a probability per line) for the patient
 * list. Every problem is collected with its line number and thrown at once.
 */
export function parsePredictionsCsv(text: string, file: string): Map<string, number> {
  const { headerProblem, rows } = readIdCancerCsv(text);
  const problems = headerProblem ? [headerProblem] : [];
  const out = new Map<string, number>();
  for (const { line, fields } of rows) {
    const p = Number(fields[1]);
    if (fields.length !== 2 || fields[0] === "" || fields[1] === "" || !(p >= 0 && p <= 1)) {
      problems.push({
        line,
        message: `expected <id>,<probability in 0..1>, found "${fields.join(",")}"`,
      });
    } else if (out.has(fields[0])) {
      problems.push({ line, message: `duplicate id ${fields[0]}` });
    } else out.set(fields[0], p);
  }
  if (problems.length > 0) {
    throw new ViewerError(
      "PREDICTIONS_INVALID",
      `${file}: ${problems.map((p) => `line ${p.line}: ${p.message}`).join("; ")}`,
      { file, problems },
    );
  }
  return out;
}
