import { type LabelProblem, LabelsError } from "./errors.js";
import type { Label } from "./schema.js";

/**
 * The rows of a Kaggle-style `id,cancer` CSV (labels, submissions): the BOM dropped, the
 * header checked (a problem on line 1 when it is not `id,cancer`), and every non-blank data
 * line as its 1-based line number and trimmed comma-separated fields. What the fields must
 * hold is the caller's check.
 */
export function readIdCancerCsv(text: string): {
  headerProblem?: LabelProblem;
  rows: { line: number; fields: string[] }[];
} {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const header = (lines[0] ?? "").split(",").map((s) => s.trim().toLowerCase());
  const headerProblem =
    header.length !== 2 || header[0] !== "id" || header[1] !== "cancer"
      ? { line: 1, message: `expected the header "id,cancer", found "${lines[0] ?? ""}"` }
      : undefined;
  const rows: { line: number; fields: string[] }[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    rows.push({ line: i + 1, fields: lines[i].split(",").map((s) => s.trim()) });
  }
  return { headerProblem, rows };
}

/**
 * Parses a Kaggle `stage1_labels.csv` (`id,cancer` header, one `<id>,<0|1>` per line).
 * Every problem is collected with its line number: a missing or wrong header, a wrong
 * number of fields, a value other than 0/1, a duplicate id, and (when `knownIds` is given)
 * an id that is not in the store. Throws one {@link LabelsError} listing them all.
 */
export function parseLabelsCsv(
  text: string,
  file: string,
  knownIds?: ReadonlySet<string>,
): Map<string, Label> {
  const problems: LabelProblem[] = [];
  const labels = new Map<string, Label>();
  const firstLine = new Map<string, number>();
  const { headerProblem, rows } = readIdCancerCsv(text);
  if (headerProblem) problems.push(headerProblem);
  for (const { line, fields } of rows) {
    if (fields.length !== 2) {
      problems.push({ line, message: `expected 2 fields (id,cancer), found ${fields.length}` });
      continue;
    }
    const [id, value] = fields;
    if (id === "") {
      problems.push({ line, message: "empty patient id" });
      continue;
    }
    if (value !== "0" && value !== "1") {
      problems.push({ line, message: `label of ${id} must be 0 or 1, found "${value}"` });
    }
    const prev = firstLine.get(id);
    if (prev !== undefined) {
      problems.push({ line, message: `duplicate id ${id} (first on line ${prev})` });
      continue;
    }
    firstLine.set(id, line);
    if (knownIds && !knownIds.has(id)) {
      problems.push({ line, message: `unknown patient id ${id} (not in the store)` });
    }
    if (value === "0" || value === "1") labels.set(id, Number(value) as Label);
  }
  if (problems.length > 0) throw new LabelsError(file, problems);
  return labels;
}
