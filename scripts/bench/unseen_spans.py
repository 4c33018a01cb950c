#!/usr/bin/env python3
"""How well a config tags slot values with a word its training set never showed: train CONFIG with
N seeds, parse the held-out sentences as raw text, and count the gold spans tagged exactly (same
start, end and label) among those that hold an unseen word and among the others.

    python scripts/bench/unseen_spans.py [--config configs/smarthome.yaml] [--seeds 3] [--set KEY=VALUE]

"Unseen": a token of the span whose folded form (the tokeniser's norm) is not a training word. Sets:
the config's test split, and dev + test together (more spans, so a steadier rate). Prints one JSON
object: per seed and in total.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from slotfill.config import load_config  # noqa: E402
from slotfill.data.formats import read_split  # noqa: E402
from slotfill.predict import Predictor  # noqa: E402
from slotfill.text.tokenise import normalise, tokenise  # noqa: E402
from slotfill.training.loop import train  # noqa: E402


def gold_spans(path: Path) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(text, [(start, end, slot)]) of every sentence of a spans-format file."""
    sentences = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        sentences.append((record["text"], [(s["start"], s["end"], s["slot"]) for s in record["slots"]]))
    return sentences


def score(predictor: Predictor, sentences: list, known: set[str]) -> dict[str, list[int]]:
    """{"unseen": [right, of], "seen": [right, of]}."""
    counts = {"unseen": [0, 0], "seen": [0, 0]}
    parses = predictor.parse_many([text for text, _ in sentences])
    for (text, spans), parse in zip(sentences, parses):
        predicted = {(s["start"], s["end"], s["slot"]) for s in parse["slots"]}
        for start, end, slot in spans:
            kind = "unseen" if any(t.norm not in known for t in tokenise(text[start:end])) else "seen"
            counts[kind][1] += 1
            counts[kind][0] += (start, end, slot) in predicted
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "smarthome.yaml"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    results = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        config = load_config(args.config, [*args.overrides, f"seed={seed}", "device=cpu"])
        directory = config.data.resolved_dir()
        known = {normalise(t) for e in read_split(directory / config.data.train, config.data.format) for t in e.tokens}
        with tempfile.TemporaryDirectory(prefix="slotfill-unseen-") as scratch:
            result = train(config, Path(scratch) / "run")
            predictor = Predictor.load(result.model_dir, "cpu")
            test = gold_spans(directory / config.data.test)
            both = gold_spans(directory / config.data.dev) + test
            results.append(
                {"seed": seed, "test": score(predictor, test, known), "dev+test": score(predictor, both, known)}
            )
        print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    total = {
        where: {kind: [sum(r[where][kind][i] for r in results) for i in (0, 1)] for kind in ("unseen", "seen")}
        for where in ("test", "dev+test")
    }
    rates = {where: {kind: round(100 * r / n, 1) for kind, (r, n) in counts.items()} for where, counts in total.items()}
    print(
        json.dumps(
            {"config": args.config, "overrides": args.overrides, "seeds": results, "total": total, "percent": rates}
        )
    )


if __name__ == "__main__":
    main()
