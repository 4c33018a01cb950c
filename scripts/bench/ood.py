"""Out-of-domain input against --min-intent-confidence (README, docs/new-domain.md).

    python scripts/bench/ood.py runs/smarthome data/smarthome/ood.txt data/smarthome/test.jsonl

For each threshold: the share of out-of-domain utterances answered with no intent (null, or the
data's own out-of-domain intent), and the share of in-domain test sentences wrongly turned away.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from slotfill.data.formats import read_split
from slotfill.predict import Predictor

THRESHOLDS = (0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("ood", type=Path, help="one out-of-domain utterance a line")
    parser.add_argument("test", type=Path, help="a labelled in-domain split")
    parser.add_argument("--ood-intent", default="out_of_domain", help="the data's own out-of-domain intent")
    args = parser.parse_args()
    predictor = Predictor.load(args.model_dir, "cpu")
    ood = [line for line in args.ood.read_text(encoding="utf-8").splitlines() if line.strip()]
    test = [e for e in read_split(args.test) if e.intent != args.ood_intent]
    rows = []
    for threshold in THRESHOLDS:
        away = {None, args.ood_intent}
        ood_parses = list(predictor.parse_many(ood, min_intent_confidence=threshold))
        test_parses = list(predictor.parse_many([" ".join(e.tokens) for e in test], min_intent_confidence=threshold))
        rows.append(
            {
                "threshold": threshold,
                "ood_turned_away": sum(p["intent"] in away for p in ood_parses),
                "ood": len(ood),
                "in_domain_turned_away": sum(p["intent"] in away for p in test_parses),
                "in_domain_right": sum(p["intent"] == e.intent for p, e in zip(test_parses, test)),
                "in_domain": len(test),
            }
        )
        print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()
