#!/bin/bash
# Pretrained vectors against none, same run, SEEDS seeds each: SNIPS, ATIS (standard and open-world
# test), the smart-home spans with a word unseen in training. Run alone (timings): make bench-vectors
# Writes OUT/{snips,atis}-{none,glove}/results.{json,md} and OUT/smarthome-{none,glove}.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=.venv/bin/python
OUT=${OUT:-bench/vectors}
SEEDS=${SEEDS:-3}
DATA_ROOT=${DATA_ROOT:-$(pwd)/../shared/data}  # the standard splits (atis/, snips/)
# with: GloVe 6B 50d, join init (chosen on SNIPS dev), so a learned table as wide as the vectors;
# without: no vectors and the 100d table the SNIPS and ATIS configs had before them
GLOVE=(--set "model.embedding.vectors={source: glove-6b-50d, max_words: 100000, join: init}" --set model.embedding.dim=50 --set model.transformer=null)
NONE=(--set model.embedding.vectors=null --set model.embedding.dim=100 --set model.transformer=null)
mkdir -p "$OUT"
for dataset in snips atis; do
  common=(--dataset "$dataset" --config "configs/$dataset.yaml" --seeds "$SEEDS" --data "$DATA_ROOT/$dataset")
  $PY scripts/bench/benchmark.py "${common[@]}" "${NONE[@]}" --label "without vectors" --out "$OUT/$dataset-none"
  $PY scripts/bench/benchmark.py "${common[@]}" "${GLOVE[@]}" --label "with glove-6b-50d" --out "$OUT/$dataset-glove"
done
$PY scripts/bench/unseen_spans.py --seeds "$SEEDS" > "$OUT/smarthome-none.json"  # configs/smarthome.yaml as it is
$PY scripts/bench/unseen_spans.py --seeds "$SEEDS" "${GLOVE[@]}" > "$OUT/smarthome-glove.json"
