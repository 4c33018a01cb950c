#!/usr/bin/env python3
"""What the out-of-scope distance costs in batch tagging (docs/out-of-scope.md): one model, its
rejection refitted as training fits it (the distance over TRAIN and DEV), then TEST tagged by
`Predictor.parse_many` with the distance and with the model's rejection left without it (the
out-of-scope class alone), alternating, median of --passes, in one run.

    python scripts/bench/oos_speed.py MODEL_DIR TRAIN DEV TEST [--copies 10] [--passes 5]

Run it alone: a second busy process on two cores slows both, and not alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import torch

from slotfill.data.formats import read_split
from slotfill.evaluation.out_of_scope import fit_rejection
from slotfill.predict import Predictor
from slotfill.store.calibration import replace_rejection
from slotfill.store.model_dir import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("train", type=Path)
    parser.add_argument("dev", type=Path)
    parser.add_argument("test", type=Path)
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="slotfill-oos-speed-") as scratch:
        copy = Path(scratch) / "model"
        shutil.copytree(args.model, copy)  # a model directory (RUN/model)
        loaded = load_model(copy, torch.device("cpu"))
        settings = loaded.config.out_of_scope.model_copy(update={"method": "distance", "keep": 0.998})
        fitted, rejection = fit_rejection(
            loaded.decoder, loaded.vocab, read_split(args.dev), settings, train=read_split(args.train),
            gazetteers=loaded.gazetteers,
        )  # fmt: skip
        replace_rejection(copy, fitted, rejection.index)
        with_distance = Predictor.load(copy, "cpu", values=False)
        without = Predictor.load(copy, "cpu", values=False)
        without.rejection = dataclasses.replace(without.rejection, index=None)
        texts = [" ".join(e.tokens) for e in read_split(args.test)] * args.copies
        seconds: dict[str, list[float]] = {"distance": [], "class only": []}
        rejected: dict[str, int] = {}
        for _ in range(args.passes):
            for name, predictor in (("distance", with_distance), ("class only", without)):
                started = time.perf_counter()
                rejected[name] = sum(1 for p in predictor.parse_many(texts) if p.get("rejected"))
                seconds[name].append(time.perf_counter() - started)
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    result = {
        "sentences": len(texts),
        "sentences_per_s": {name: round(len(texts) / s) for name, s in medians.items()},
        "ratio": round(medians["distance"] / medians["class only"], 3),
        "index_rows": int(rejection.index.points.shape[0]),  # type: ignore[union-attr]
        "rejected": rejected,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
