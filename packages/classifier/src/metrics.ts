/**
 * Binary classification metrics, as the Kaggle DSB 2017 scored them (log loss) plus the
 * ones a clinician asks for. Pure functions over plain arrays; labels are 0/1.
 */

/** Probabilities are clipped to [eps, 1-eps] before the log, as Kaggle did (eps 1e-15). */
export const PROBABILITY_EPS = 1e-15;

export function clipProbability(p: number, eps = PROBABILITY_EPS): number {
  return Math.min(1 - eps, Math.max(eps, p));
}

function check(labels: ArrayLike<number>, probs: ArrayLike<number>): void {
  if (labels.length !== probs.length) {
    throw new RangeError(`metrics: ${labels.length} labels but ${probs.length} predictions`);
  }
  if (labels.length === 0) throw new RangeError("metrics: no samples");
}

/** Mean binary cross-entropy (natural log). */
export function logLoss(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  eps = PROBABILITY_EPS,
): number {
  check(labels, probs);
  let s = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = clipProbability(probs[i], eps);
    s += labels[i] ? -Math.log(p) : -Math.log(1 - p);
  }
  return s / labels.length;
}

export interface ConfusionMatrix {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Counts at a decision threshold (predicted positive when p >= threshold). */
export function confusionMatrix(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  threshold = 0.5,
): ConfusionMatrix {
  check(labels, probs);
  const m = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const pos = probs[i] >= threshold;
    if (labels[i]) pos ? m.tp++ : m.fn++;
    else pos ? m.fp++ : m.tn++;
  }
  return m;
}

export function accuracy(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  threshold = 0.5,
): number {
  const m = confusionMatrix(labels, probs, threshold);
  return (m.tp + m.tn) / labels.length;
}

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (Mann-Whitney U with mid-ranks). NaN when only one class.
 */
export function rocAuc(labels: ArrayLike<number>, probs: ArrayLike<number>): number {
  check(labels, probs);
  const idx = Array.from({ length: labels.length }, (_, i) => i).sort(
    (a, b) => probs[a] - probs[b],
  );
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && probs[idx[j + 1]] === probs[idx[i]]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]]) {
        nPos++;
        rankSumPos += midRank;
      }
    }
    i = j + 1;
  }
  const nNeg = labels.length - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export interface RocPoint {
  threshold: number;
  fpr: number;
  tpr: number;
}

/** The ROC curve from (0,0) to (1,1), one point per distinct score (descending thresholds). */
export function rocCurve(labels: ArrayLike<number>, probs: ArrayLike<number>): RocPoint[] {
  check(labels, probs);
  const idx = Array.from({ length: labels.length }, (_, i) => i).sort(
    (a, b) => probs[b] - probs[a],
  );
  let nPos = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) nPos++;
  const nNeg = labels.length - nPos;
  const pts: RocPoint[] = [{ threshold: Number.POSITIVE_INFINITY, fpr: 0, tpr: 0 }];
  let tp = 0;
  let fp = 0;
  for (let i = 0; i < idx.length; ) {
    const t = probs[idx[i]];
    while (i < idx.length && probs[idx[i]] === t) {
      if (labels[idx[i]]) tp++;
      else fp++;
      i++;
    }
    pts.push({ threshold: t, fpr: nNeg ? fp / nNeg : 0, tpr: nPos ? tp / nPos : 0 });
  }
  return pts;
}

export interface BinaryReport {
  n: number;
  positives: number;
  logLoss: number;
  accuracy: number;
  auc: number;
  confusion: ConfusionMatrix;
}

/** Everything `lungflow evaluate` prints, in one object. */
export function binaryReport(
  labels: ArrayLike<number>,
  probs: ArrayLike<number>,
  threshold = 0.5,
): BinaryReport {
  let positives = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i]) positives++;
  return {
    n: labels.length,
    positives,
    logLoss: logLoss(labels, probs),
    accuracy: accuracy(labels, probs, threshold),
    auc: rocAuc(labels, probs),
    confusion: confusionMatrix(labels, probs, threshold),
  };
}
