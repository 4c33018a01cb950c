#!/bin/bash
# A pretrained encoder (all-MiniLM-L6-v2, third layer) against none, same run, SEEDS seeds each:
# SNIPS (frozen and fine-tuned), ATIS (standard and open-world test; frozen), the smart-home spans
# with a word unseen in training (frozen); then the SNIPS encoder model exported (float and int8)
# against torch. Run alone (timings): make bench-encoders. SOURCE: the checkout trained and timed
# (default: this one); a worktree of one commit keeps edits made meanwhile out of the run.
# Writes OUT/{snips,atis}-{none,frozen,fine_tuned}/results.{json,md}, OUT/smarthome-{none,frozen}.json
# and OUT/export/results.json.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=$(pwd)/.venv/bin/python
SOURCE=$(cd "${SOURCE:-.}" && pwd)
OUT=$(mkdir -p "${OUT:-bench/encoders}" && cd "${OUT:-bench/encoders}" && pwd)
SEEDS=${SEEDS:-3}
DATA_ROOT=${DATA_ROOT:-$(pwd)/../shared/data}  # the standard splits (atis/, snips/)
export PYTHONPATH=$SOURCE
NONE=(--set model.transformer=null)
FROZEN=(--set "model.transformer={source: all-minilm-l6-v2, layers: [3]}")
TUNED=(--set "model.transformer={source: all-minilm-l6-v2, layers: [3], mode: fine_tuned, lr: 0.0001}" --set training.epochs=8)
bench() {  # dataset, name, overrides...
  local dataset=$1 name=$2
  shift 2
  $PY "$SOURCE/scripts/bench/benchmark.py" --source "$SOURCE" --dataset "$dataset" --config "configs/$dataset.yaml" \
    --seeds "$SEEDS" --data "$DATA_ROOT/$dataset" --label "$name" --out "$OUT/$dataset-$name" "$@"
}
bench snips none "${NONE[@]}"
bench snips frozen "${FROZEN[@]}"
bench snips fine_tuned "${TUNED[@]}"
bench atis none "${NONE[@]}"
bench atis frozen "${FROZEN[@]}"
$PY "$SOURCE/scripts/bench/unseen_spans.py" --seeds "$SEEDS" "${NONE[@]}" > "$OUT/smarthome-none.json"
$PY "$SOURCE/scripts/bench/unseen_spans.py" --seeds "$SEEDS" "${FROZEN[@]}" > "$OUT/smarthome-frozen.json"
# one SNIPS encoder model kept, exported and timed against torch
model=$(mktemp -d)/snips
$PY -m slotfill.cli train "$SOURCE/configs/snips.yaml" --output "$model" "${FROZEN[@]}" --set "data.dir=$DATA_ROOT/snips" --set seed=1
$PY "$SOURCE/scripts/bench/export.py" "$model/model" "$DATA_ROOT/snips/test" --out "$OUT/export"
rm -rf "$(dirname "$model")"
