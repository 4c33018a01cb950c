"""Tagging speed of one model with torch: cold load, batch sentences/s (Predictor.parse_many over a
split's sentences, median of 3 passes) and one-sentence latency (parse, p50 and p90 of 200).

    python scripts/bench/encoder_speed.py runs/snips $(slotfill data path snips)/test
"""

import statistics
import sys
import time

t = time.perf_counter()
from slotfill.predict import Predictor  # noqa: E402 (its import is part of the cold load measured)

p = Predictor.load(sys.argv[1], "cpu")
print(f"cold load {time.perf_counter() - t:.2f} s")
texts = open(sys.argv[2] + "/seq.in", encoding="utf-8").read().splitlines()
list(p.parse_many(texts[:50], values=False))
runs = []
for _ in range(3):
    t = time.perf_counter()
    list(p.parse_many(texts, values=False))
    runs.append(time.perf_counter() - t)
print(f"batch: {len(texts) / statistics.median(runs):.0f} sentences/s (median of 3 passes over {len(texts)})")
lat = []
for text in texts[:200]:
    t = time.perf_counter()
    p.parse(text, values=False)
    lat.append(time.perf_counter() - t)
print(f"one sentence p50 {1000 * statistics.median(lat):.1f} ms, p90 {1000 * sorted(lat)[int(0.9 * len(lat))]:.1f} ms")
