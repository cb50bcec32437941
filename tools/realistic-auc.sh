#!/usr/bin/env bash
# The classifier on independently generated realistic cohorts, with the CLI's defaults.
# Per seed: `phantom cohort` (60 adult chests, 340-400 mm fields of view, 128x128 slices,
# 1.0-2.5 mm slices, mixed encodings; cancer iff a nodule >= 12 mm, benign nodules < 8 mm),
# `ingest`, a stratified third held out (its labels never enter the store), labels + split
# (validation 0.25), the demo's small GMCAE (16^3, 4-8-16, m 2, 4 x 25 steps), then the
# classifier stage as a user runs it: `train classifier --store --gmcae --out` (features
# included), `predict`, `evaluate` on the held-out third. Prints one line per seed: stage
# seconds, held-out ROC AUC, epochs whose training loss rose above the first epoch's.
# Too slow for the suite (about 6-8 minutes a seed on 2 cores).
# Usage: tools/realistic-auc.sh DIR SEED [SEED ...]   (extra train flags: TRAIN_FLAGS=...)
set -euo pipefail
dir=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
lf() { node "$root/packages/cli/dist/bin.js" "$@"; }
py=/usr/bin/python3
mkdir -p "$dir"
for s in "$@"; do
  d="$dir/r$s"
  if [ ! -d "$d/gmcae/best" ]; then
    rm -rf "$d"
    mkdir -p "$d"
    lf phantom cohort --out "$d/dicom" --patients 60 --seed "$s" --preset realistic --matrix 128 \
      --cancer-min-mm 12 --benign-max-mm 8 --mixed-encodings --no-ground-truth >"$d/phantom.log" 2>&1
    lf ingest "$d/dicom" --store "$d/store.zarr" --workers 2 >"$d/ingest.log" 2>&1
    $py - "$d" "$s" <<'PY'
import csv, random, sys
d, s = sys.argv[1], int(sys.argv[2])
rows = list(csv.reader(open(d + "/dicom/stage1_labels.csv")))[1:]
random.seed(s)
pos = [r for r in rows if r[1] == "1"]; neg = [r for r in rows if r[1] == "0"]
random.shuffle(pos); random.shuffle(neg)
hold = {r[0] for r in pos[: len(pos) // 3] + neg[: len(neg) // 3]}
w = lambda f, keep: open(f, "w").write("id,cancer\n" + "".join(f"{a},{b}\n" for a, b in rows if keep(a)))
w(d + "/train_labels.csv", lambda a: a not in hold)
w(d + "/holdout_labels.csv", lambda a: a in hold)
PY
    lf store labels "$d/store.zarr" "$d/train_labels.csv" --ignore-unknown >/dev/null
    lf store split "$d/store.zarr" --seed "$s" --validation-fraction 0.25 >/dev/null
    cat >"$d/gmcae.json" <<J
{"model":{"patchSize":16,"filters":[4,8,16],"m":2,"seed":$s},"train":{"epochs":4,"stepsPerEpoch":25,"validationSteps":4,"batchSize":8,"learningRate":3e-3,"clipNorm":5,"seed":$s}}
J
    lf train gmcae --store "$d/store.zarr" --out "$d/gmcae" --config "$d/gmcae.json" >"$d/gmcae.log" 2>&1
  fi
  rm -rf "$d/classifier"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086
  lf train classifier --store "$d/store.zarr" --gmcae "$d/gmcae" --out "$d/classifier" ${TRAIN_FLAGS:-} >"$d/classifier.log" 2>&1
  lf predict --store "$d/store.zarr" --model "$d/classifier" --out "$d/holdout.csv" >"$d/predict.log" 2>&1
  t1=$(date +%s.%N)
  lf evaluate --labels "$d/holdout_labels.csv" --predictions "$d/holdout.csv" >"$d/evaluate.log" 2>&1
  auc=$(awk '/ROC AUC/ {print $3}' "$d/evaluate.log")
  rises=$(awk '/^epoch/ {l = $4; if (n == 0) f = l; else if (l > f) r++; n++} END {print r + 0}' "$d/classifier.log")
  printf '{"seed": %s, "stage_s": %.1f, "heldout_auc": %s, "epochs_above_first": %s}\n' \
    "$s" "$(echo "$t1 - $t0" | bc)" "$auc" "$rises"
done
