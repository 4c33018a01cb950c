#!/usr/bin/env python3
"""Wall time of the CLI as a user meets it: `slotfill --help` and a cold `slotfill predict`.

    python scripts/bench/cli.py [MODEL_DIR] [--runs 10]

Each command runs as a fresh process; prints one JSON line with the medians (and every run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(command: list[str], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seconds.append(round(time.perf_counter() - start, 3))
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir", type=Path, nargs="?", default=Path("runs/atis"))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    slotfill = str(Path(sys.executable).with_name("slotfill"))
    help_runs = timed([slotfill, "--help"], args.runs)
    predict_runs = timed(
        [slotfill, "predict", str(args.model_dir), "leave Taipei on November 2nd"], max(3, args.runs // 2)
    )
    print(
        json.dumps(
            {
                "help_seconds_median": statistics.median(help_runs),
                "cold_predict_seconds_median": statistics.median(predict_runs),
                "help_seconds": help_runs,
                "cold_predict_seconds": predict_runs,
            }
        )
    )


if __name__ == "__main__":
    main()
