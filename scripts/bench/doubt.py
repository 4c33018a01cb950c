#!/usr/bin/env python3
"""Which doubt finds more wrong parses per question (docs/annotation.md):

    python scripts/bench/doubt.py runs/atis $(slotfill data path atis)/test --questions 100

TEST's sentences are the pool: each is parsed by MODEL, and a parse is wrong when its tags or its
intent differ from the gold ones. Prints, for the first N questions of each order (input order,
`sequence` doubt, `slot` doubt), how many of them were wrong, and how many wrong parses the pool has.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from slotfill.annotation.doubt import DOUBTS, most_doubtful_first
from slotfill.data.formats import read_split
from slotfill.predict import Predictor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", type=Path)
    parser.add_argument("pool", type=Path)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    examples = read_split(args.pool)
    predictor = Predictor.load(args.model, "cpu")
    parses = list(predictor.parse_many([" ".join(e.tokens) for e in examples], alternatives=1, values=False))
    wrong = [p["tags"] != list(e.tags) or p.get("intent") != e.intent for p, e in zip(parses, examples)]
    orders = {"input": list(range(len(parses)))}
    orders.update({measure: most_doubtful_first(parses, measure) for measure in DOUBTS})
    found = {name: sum(wrong[i] for i in order[: args.questions]) for name, order in orders.items()}
    print(f"{args.pool}: {len(parses)} sentences, {sum(wrong)} parsed wrong")
    print(f"| order | wrong parses in the first {args.questions} questions |\n|---|---|")
    for name, count in found.items():
        print(f"| {name} | {count} |")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        results = {
            "pool": str(args.pool),
            "sentences": len(parses),
            "wrong": sum(wrong),
            "first": args.questions,
            "found": found,
        }
        (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
