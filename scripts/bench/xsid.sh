#!/usr/bin/env bash
# Non-English slot filling (README, "Languages"): xSID (van der Goot et al., NAACL 2021; CC BY-SA 4.0)
# in German (spaces), Japanese and Chinese (no spaces), each trained in-language on its validation
# sentences and evaluated on its test sentences. XSID is a checkout of https://github.com/mainlp/xsid
# (the data stays outside this repository):
#   scripts/bench/xsid.sh /path/to/xsid [OUT]
set -euo pipefail
XSID=${1:?give the path of an xsid checkout}
OUT=${2:-runs/xsid}
BIN=${BIN:-.venv/bin}
$BIN/python scripts/data/xsid.py "$XSID/data/xSID-0.7" "$OUT/data" --languages de ja zh
for language in de ja zh; do
  $BIN/slotfill data validate "$OUT/data/$language" > "$OUT/validate-$language.txt" || true
  $BIN/slotfill train configs/xsid.yaml --set data.dir="$OUT/data/$language" --output "$OUT/$language" --overwrite
  $BIN/slotfill evaluate "$OUT/$language" "$OUT/data/$language/test.jsonl" --json > "$OUT/$language-test.json"
done
