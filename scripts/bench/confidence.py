#!/usr/bin/env python3
"""What slot confidences and alternatives cost, and how well the confidences are calibrated.

    python scripts/bench/confidence.py MODEL_DIR TEST_SPLIT [--passes 7]

In one process: batch tagging of the test sentences (raw text in, parses out, batch 256) without
slot confidences, with them, and with 3 alternatives (median sentences/s of several passes), then
the expected calibration error (10 bins; a slot counts as right when its span and label are
exactly gold's) at temperature 1 and at the model's own (calibration.json). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from slotfill.data.formats import read_split  # noqa: E402
from slotfill.decoding.types import Decoding  # noqa: E402
from slotfill.evaluation.evaluate import evaluate  # noqa: E402
from slotfill.predict import Predictor  # noqa: E402


def throughput(predictor: Predictor, texts: list[str], decoding: Decoding, passes: int) -> float:
    seconds = []
    for _ in range(passes):
        start = time.perf_counter()
        list(predictor._parse_chunk(texts, decoding, 0.0))
        seconds.append(time.perf_counter() - start)
    return round(len(texts) / statistics.median(seconds), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("test", type=Path)
    parser.add_argument("--passes", type=int, default=7)
    args = parser.parse_args()
    predictor = Predictor.load(args.model, "cpu", batch_size=256)
    examples = read_split(args.test)
    texts = [" ".join(e.tokens) for e in examples]
    temperature = predictor.loaded.temperature
    list(predictor._parse_chunk(texts, Decoding(temperature), 0.0))  # warm-up
    result = {
        "sentences": len(texts),
        "sent_per_s_without_confidences": throughput(
            predictor, texts, Decoding(temperature, confidences=False), args.passes
        ),
        "sent_per_s_with_confidences": throughput(predictor, texts, Decoding(temperature), args.passes),
        "sent_per_s_with_3_alternatives": throughput(
            predictor, texts, Decoding(temperature, alternatives=3), args.passes
        ),
    }
    result["ratio_with_to_without"] = round(
        result["sent_per_s_with_confidences"] / result["sent_per_s_without_confidences"], 3
    )
    loaded = predictor.loaded
    for name, value in (("at_1", 1.0), ("at_model_temperature", temperature)):
        metrics = evaluate(
            loaded.decoder, loaded.vocab, examples, gazetteers=loaded.gazetteers, temperature=value
        ).metrics
        result[f"test_slot_ece_{name}"] = round(metrics["slot_ece"], 5)
    result["temperature"] = temperature
    print(json.dumps(result))


if __name__ == "__main__":
    main()
