#!/usr/bin/env bash
# Non-English slot filling (docs/tokenisation.md): xSID 0.7 (van der Goot et al., NAACL 2021; CC BY-SA
# 4.0) in German (spaces), Japanese and Chinese (no spaces), each trained in-language on its
# validation sentences and evaluated on its test sentences. With no internet, give a checkout of
# https://github.com/mainlp/xsid (the data stays outside this repository):
#   scripts/bench/xsid.sh [XSID_CHECKOUT] [OUT]
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=${2:-runs/xsid}
mkdir -p "$OUT"
$BIN/slotfill data download xsid ${1:+--from "$1/data/xSID-0.7"}
DATA=$($BIN/slotfill data path xsid)
for language in de ja zh; do
  $BIN/slotfill data validate "$DATA/$language" > "$OUT/validate-$language.txt" || true
  $BIN/slotfill train configs/xsid.yaml --output "$OUT/$language" --overwrite \
    --set data.train=$language/train.jsonl --set data.dev=$language/dev.jsonl --set data.test=$language/test.jsonl
  $BIN/slotfill evaluate "$OUT/$language" "$DATA/$language/test.jsonl" --json > "$OUT/$language-test.json"
done
