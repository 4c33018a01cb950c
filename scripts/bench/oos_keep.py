#!/usr/bin/env python3
"""The out-of-scope threshold by `out_of_scope.keep`, on one trained model (docs/out-of-scope.md):
for each keep, the threshold fitted on DEV as training fits it, then TEST scored with it.

    python scripts/bench/oos_keep.py RUN_OR_MODEL_DIR DEV TEST [--train TRAIN] [--method distance] [--keep 0.995,0.99,0.98,0.97,0.95,0.93,0.9]

Prints one JSON line per keep: the threshold (a confidence, or a distance with --method distance,
which needs the training split), in-scope accuracy, in-scope rejected, out-of-scope
recall, precision and F1 (the test split must have out-of-scope examples, e.g. CLINC150's).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from slotfill.data.formats import read_split
from slotfill.evaluation.evaluate import evaluate
from slotfill.evaluation.out_of_scope import fit_rejection
from slotfill.store.model_dir import load_model

SHOWN = ("in_scope_accuracy", "in_scope_rejected", "out_of_scope_recall", "out_of_scope_precision", "out_of_scope_f1")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("dev", type=Path)
    parser.add_argument("test", type=Path)
    parser.add_argument("--train", type=Path, help="the training split (method distance)")
    parser.add_argument("--method", default="confidence", choices=("confidence", "distance"))
    parser.add_argument("--keep", default="0.995,0.99,0.98,0.97,0.95,0.93,0.9")
    args = parser.parse_args()
    model = load_model(args.model, torch.device("cpu"))
    dev, test = read_split(args.dev), read_split(args.test)
    train = read_split(args.train) if args.train is not None else []
    settings = model.config.out_of_scope.model_copy(update={"method": args.method})
    for keep in (float(k) for k in args.keep.split(",")):
        fitted, rejection = fit_rejection(
            model.decoder, model.vocab, dev, settings.model_copy(update={"keep": keep}), train=train,
            gazetteers=model.gazetteers,
        )  # fmt: skip
        metrics = evaluate(
            model.decoder, model.vocab, test, gazetteers=model.gazetteers, temperature=model.temperature,
            rejection=rejection, out_of_scope=settings.intent,
        ).metrics  # fmt: skip
        scores = metrics.get("out_of_scope", {})
        threshold = fitted["distance"] if args.method == "distance" else fitted["threshold"]
        print(json.dumps({"keep": keep, "threshold": threshold, **{k: round(scores[k], 4) for k in SHOWN}}))


if __name__ == "__main__":
    main()
