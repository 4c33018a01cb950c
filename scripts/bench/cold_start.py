#!/usr/bin/env python3
"""The cold start of an exported model (docs/speed.md): a fresh process that tags one utterance,
against a fresh process that only imports numpy and onnxruntime (the floor of the torch-free path).

    python scripts/bench/cold_start.py EXPORTED_MODEL_DIR [--runs 11]

Each run starts three processes, taking turns so that a noisy machine slows them alike:
`python -c "import numpy, onnxruntime"`, `slotfill predict DIR TEXT` and the library alone
(`Predictor.load(DIR).parse(TEXT)` in `python -c`). Prints the medians in seconds and each one's
ratio to the floor as JSON. Run it alone: it is a timing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

TEXT = "show me flights from boston to denver on monday morning"


def seconds(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    model = str(args.model.resolve())
    commands = {
        "import numpy, onnxruntime": [sys.executable, "-c", "import numpy, onnxruntime"],
        "slotfill predict": [sys.executable, "-m", "slotfill.cli", "predict", model, TEXT],
        "Predictor.load().parse()": [
            sys.executable,
            "-c",
            f"from slotfill.predict import Predictor; Predictor.load({model!r}).parse({TEXT!r})",
        ],
    }
    for command in commands.values():  # once, untimed: the files in the page cache, like every later run
        seconds(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(seconds(command))
    floor = statistics.median(times["import numpy, onnxruntime"])
    print(
        json.dumps(
            {
                name: {"median_s": round(statistics.median(t), 3), "ratio": round(statistics.median(t) / floor, 2)}
                for name, t in times.items()
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
