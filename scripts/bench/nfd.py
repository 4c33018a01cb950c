#!/usr/bin/env python3
"""NFC against NFD input, the same model under the old and the new tokenisation rules (docs/tokenisation.md):

    python scripts/bench/nfd.py runs/atis $(slotfill data path atis)/test runs/openworld/test

For each split's sentences, and for the open-world cities of the issue's probe put into ATIS
sentences, every accent decomposed (NFD: a letter and a combining mark, as macOS and many keyboards
type them): how many sentences get other slots (label and NFC text) or another intent than their
NFC form, with the model's vocabulary read under rules 1 (marks cut words) and rules 2 (marks are
part of their letter). The model's words are the same under both rules (ASCII and NFC), so this
measures the tokeniser alone. Also the tokeniser's speed on the first split, both rules, best of 7.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import unicodedata
from pathlib import Path

from slotfill.data.formats import read_split
from slotfill.predict import Predictor
from slotfill.text.tokenise import tokenise

CITIES = ["Reykjavík", "Gdańsk", "Ålesund", "Göteborg", "Zürich", "Hà Nội", "Ōsaka", "São Paulo", "Kraków", "Malmö", "Besançon", "Córdoba"]  # fmt: skip


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


def reading(parsed: dict) -> tuple:
    slots = tuple((s["slot"], unicodedata.normalize("NFC", s["text"])) for s in parsed["slots"])
    return slots, parsed.get("intent")


def differing(predictor: Predictor, texts: list[str]) -> int:
    composed = predictor.parse_many(texts, values=False)
    decomposed = predictor.parse_many([nfd(t) for t in texts], values=False)
    return sum(reading(a) != reading(b) for a, b in zip(composed, decomposed))


def tokeniser_speed(texts: list[str], rules: int) -> float:
    best = float("inf")
    for _ in range(7):
        started = time.perf_counter()
        for text in texts:
            tokenise(text, rules=rules)
        best = min(best, time.perf_counter() - started)
    return len(texts) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("splits", type=Path, nargs="+")
    args = parser.parse_args()
    base = Predictor.load(args.model, "cpu")
    sets = {str(split): [" ".join(e.tokens) for e in read_split(split)] for split in args.splits}
    first = next(iter(sets.values()))
    sets["probe: ATIS sentences to 12 accented cities"] = [
        f"{text} to {city}" for text, city in zip(first, CITIES * len(first))
    ]
    print("| sentences | accented (NFD differs) | differ, rules 1 | differ, rules 2 |\n|---|---|---|---|")
    for name, texts in sets.items():
        counts = []
        for rules in (1, 2):
            base.loaded.vocab = dataclasses.replace(base.loaded.vocab, tokenisation=rules)
            counts.append(differing(base, texts))
        accented = sum(nfd(t) != t for t in texts)
        print(f"| {name} ({len(texts):,}) | {accented:,} | {counts[0]:,} | {counts[1]:,} |")
    mixed = first + [nfd(t) for t in sets["probe: ATIS sentences to 12 accented cities"]]
    for name, texts in (("ATIS test", first), ("the probe in NFD", mixed)):
        speeds = [tokeniser_speed(texts * 4, rules) for rules in (1, 2)]
        print(f"tokeniser on {name} x4: rules 1 {speeds[0]:,.0f} sentences/s, rules 2 {speeds[1]:,.0f} sentences/s")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
