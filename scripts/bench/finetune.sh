#!/usr/bin/env bash
# Fine-tuning from a model against training from scratch (docs/annotation.md, "Improving a model with real
# utterances"), on a real split: ATIS train cut in two halves (the first 2,239 sentences and the
# other 2,239). `part` is trained on the first half alone; `finetuned` starts from it
# (--init-from) and trains 10 epochs on both halves; `scratch` trains on both halves from nothing,
# as configs/atis.yaml says. Prints dev/test slot F1, training seconds and wall seconds of each.
#   scripts/bench/finetune.sh [OUT]        (after `slotfill data download atis`; about 7 minutes)
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=${1:-runs/finetune}
ATIS=$($BIN/slotfill data path atis)
mkdir -p "$OUT/first" "$OUT/second"
half=$(( $(wc -l < "$ATIS/train/seq.in") / 2 ))
for file in seq.in seq.out label; do
  head -n "$half" "$ATIS/train/$file" > "$OUT/first/$file"
  tail -n "+$(( half + 1 ))" "$ATIS/train/$file" > "$OUT/second/$file"
done
first=$(realpath "$OUT/first") second=$(realpath "$OUT/second")
timed() {  # NAME ARGS...: trains, and writes the wall seconds to OUT/NAME.wall
  local name=$1 start end
  shift
  start=$(date +%s.%N)
  $BIN/slotfill train configs/atis.yaml --output "$OUT/$name" --overwrite "$@" > /dev/null
  end=$(date +%s.%N)
  $BIN/python -c "print($end - $start)" > "$OUT/$name.wall"
}
timed part --set "data.train=[$first]"
timed finetuned --init-from "$OUT/part" --set "data.train=[$first, $second]" --set training.epochs=10
timed scratch --set "data.train=[$first, $second]"
$BIN/python - "$OUT" <<'PY'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
print("| model | trained on | dev slot F1 | test slot F1 | training s | wall s |\n|---|---|---|---|---|---|")
for name, data in (("part", "first half"), ("finetuned", "both halves, from part"), ("scratch", "both halves")):
    metrics = json.loads((out / name / "model" / "metrics.json").read_text())
    wall = float((out / f"{name}.wall").read_text())
    print(f"| {name} | {data} | {100 * metrics['dev']['slot_f1']:.2f} | {100 * metrics['test']['slot_f1']:.2f} "
          f"| {metrics['train_seconds']:.1f} | {wall:.1f} |")
PY
