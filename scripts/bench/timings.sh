#!/usr/bin/env bash
# The timings the README and docs/new-domain.md quote, in one run (run it alone: a second heavy
# process on 2 cores makes training 2-10x slower):
#   scripts/bench/timings.sh [OUT]     (about 2 minutes after make install)
# Prints: `make demo` wall seconds and the demo training's seconds (metrics.json), the smart-home
# training's wall and training seconds, and the median of 5 cold `slotfill --help`.
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=${1:-runs/timings}
mkdir -p "$OUT"
now() { $BIN/python -c "import time; print(time.monotonic())"; }
seconds() { $BIN/python -c "print(f'{$2 - $1:.1f}')"; }
train_seconds() { $BIN/python -c "import json,sys; print(json.load(open(sys.argv[1]))['train_seconds'])" "$1/model/metrics.json"; }
start=$(now); make demo > "$OUT/demo.log" 2>&1; end=$(now)
echo "make demo: $(seconds "$start" "$end") s wall, training $(train_seconds runs/demo) s"
start=$(now); $BIN/slotfill train configs/smarthome.yaml --output "$OUT/smarthome" --overwrite > "$OUT/smarthome.log" 2>&1; end=$(now)
echo "smart-home train: $(seconds "$start" "$end") s wall, training $(train_seconds "$OUT/smarthome") s; $(grep '^best epoch' "$OUT/smarthome.log")"
$BIN/python - "$BIN/slotfill" <<'PY'
import statistics, subprocess, sys, time
runs = []
for _ in range(5):
    start = time.perf_counter()
    subprocess.run([sys.argv[1], "--help"], check=True, capture_output=True)
    runs.append(time.perf_counter() - start)
print(f"slotfill --help: median {statistics.median(runs):.2f} s of 5 ({', '.join(f'{r:.2f}' for r in runs)})")
PY
