import fs from "node:fs/promises";
import { readIdCancerCsv } from "@lungflow/patch-store";
import { ClassifierError } from "./errors.js";
import {
  type BinaryReport,
  binaryReport,
  clipProbability,
  type RocPoint,
  rocCurve,
} from "./metrics.js";

export interface Prediction {
  id: string;
  /** Probability of cancer within a year. */
  cancer: number;
}

/**
 * Writes a Kaggle DSB 2017 submission (`id,cancer`, one row per patient, probabilities
 * clipped to [1e-15, 1 - 1e-15]) atomically (temp file + rename).
 */
export async function writeSubmission(rows: readonly Prediction[], file: string): Promise<void> {
  const seen = new Set<string>();
  const lines = ["id,cancer"];
  for (const r of rows) {
    if (seen.has(r.id))
      throw new ClassifierError("BAD_PREDICTIONS", `duplicate prediction for patient ${r.id}`, {
        id: r.id,
        file,
      });
    if (!Number.isFinite(r.cancer))
      throw new ClassifierError("BAD_PREDICTIONS", `prediction for ${r.id} is ${r.cancer}`, {
        id: r.id,
        file,
      });
    seen.add(r.id);
    lines.push(`${r.id},${clipProbability(r.cancer)}`);
  }
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, lines.join("\n") + "\n");
  await fs.rename(tmp, file);
}

/**
 * Parses a submission CSV (`id,cancer` with probabilities in [0, 1]). Every problem is
 * collected with its line number and thrown at once as `BAD_PREDICTIONS`.
 */
export function parseSubmissionCsv(text: string, file: string): Map<string, number> {
  const problems: { line: number; message: string }[] = [];
  const out = new Map<string, number>();
  const { headerProblem, rows } = readIdCancerCsv(text);
  if (headerProblem) problems.push(headerProblem);
  for (const { line, fields: f } of rows) {
    const p = Number(f[1]);
    if (f.length !== 2 || f[0] === "") problems.push({ line, message: "expected id,cancer" });
    else if (f[1] === "" || !Number.isFinite(p) || p < 0 || p > 1)
      problems.push({ line, message: `probability "${f[1]}" is not a number in [0, 1]` });
    else if (out.has(f[0])) problems.push({ line, message: `duplicate id ${f[0]}` });
    else out.set(f[0], p);
  }
  if (problems.length > 0) {
    const list = problems
      .slice(0, 10)
      .map((p) => `  line ${p.line}: ${p.message}`)
      .join("\n");
    throw new ClassifierError(
      "BAD_PREDICTIONS",
      `${file}: ${problems.length} problem(s)\n${list}`,
      { file, problems },
    );
  }
  return out;
}

export interface Evaluation {
  report: BinaryReport;
  roc: RocPoint[];
  /** Labelled patients with no prediction (not scored). */
  missing: string[];
  /** Predicted patients with no label (not scored). */
  unlabelled: string[];
}

/** Scores predictions against labels on the patients present in both. */
export function evaluatePredictions(
  labels: ReadonlyMap<string, number>,
  predictions: ReadonlyMap<string, number>,
  threshold = 0.5,
): Evaluation {
  const ys: number[] = [];
  const ps: number[] = [];
  const missing: string[] = [];
  for (const [id, y] of labels) {
    const p = predictions.get(id);
    if (p === undefined) missing.push(id);
    else {
      ys.push(y);
      ps.push(p);
    }
  }
  const unlabelled = [...predictions.keys()].filter((id) => !labels.has(id));
  if (ys.length === 0)
    throw new ClassifierError("BAD_PREDICTIONS", "no patient has both a label and a prediction", {
      missing: missing.length,
      unlabelled: unlabelled.length,
    });
  return { report: binaryReport(ys, ps, threshold), roc: rocCurve(ys, ps), missing, unlabelled };
}
