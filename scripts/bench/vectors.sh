#!/bin/bash
# Pretrained vectors against none, same run, 3 seeds each: SNIPS, ATIS (standard and open-world test),
# the smart-home spans with a word unseen in training. Run alone (timings): make bench-vectors
# Writes bench/vectors/{snips,atis}-{none,glove}/results.{json,md} and bench/vectors/smarthome-{none,glove}.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
OUT=${OUT:-bench/vectors}
SEEDS=${SEEDS:-3}
JOIN=${JOIN:-concat}
GLOVE="model.embedding.pretrained={source: glove-6b-50d, max_words: 100000, join: $JOIN}"
# join init starts the learned rows from the vectors: the table must be as wide as they are
DIM=model.embedding.dim=${DIM:-100}
NONE='model.embedding.pretrained=null'
mkdir -p "$OUT"
for dataset in snips atis; do
  $PY scripts/bench/benchmark.py --dataset "$dataset" --config "configs/$dataset.yaml" --seeds "$SEEDS" \
    --set "$NONE" --label "configs/$dataset.yaml without vectors" --out "$OUT/$dataset-none"
  $PY scripts/bench/benchmark.py --dataset "$dataset" --config "configs/$dataset.yaml" --seeds "$SEEDS" \
    --set "$GLOVE" $([ "$JOIN" = init ] && echo --set "$DIM") --label "configs/$dataset.yaml with glove-6b-50d" --out "$OUT/$dataset-glove"
done
$PY scripts/bench/unseen_spans.py --seeds "$SEEDS" --set "$NONE" > "$OUT/smarthome-none.json"
$PY scripts/bench/unseen_spans.py --seeds "$SEEDS" --set "$GLOVE" $([ "$JOIN" = init ] && echo --set "$DIM") > "$OUT/smarthome-glove.json"
