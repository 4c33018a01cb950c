#!/usr/bin/env python3
"""Dialogue context measured on the DSTC8 span-extraction sets (docs/dialogue-context.md): each
domain trained with `configs/dstc8.yaml` on all its training turns (train_0.json) and on the smallest
published fraction (train_4.json), with N seeds, with the context read in each `feed` asked for and
without it (`model.context.enabled=false`), every model scored on the domain's test.json: span F1 overall,
on the turns with a requested slot, on the bare answers among them (at most 3 tokens), and overall
on the same test turns with their context left out (a model with context parsing turns without one).

    python scripts/bench/dstc8.py --data DIR [--seeds 3] [--settings off,both] [--out bench/dstc8] [--resume]

DIR holds the domains (`slotfill data download dstc8`; `slotfill data path dstc8`). Every training
runs in a child process (`slotfill train`), every score is `slotfill evaluate --json` of the saved
model. Writes OUT/results.json and OUT/results.md after each run; `--resume` keeps the runs
OUT/results.json holds and trains only the missing ones. Run alone: it trains for about half an hour.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = ("Buses_1", "Events_1", "Homes_1", "RentalCars_1")
TRAINING = {"full": "train_0.json", "train_4": "train_4.json"}  # all turns, the smallest fraction
SETTINGS = {
    "off": ["model.context.enabled=false"],
    "input": ["model.context.feed=input"],
    "bias": ["model.context.feed=bias"],
    "both": ["model.context.feed=both"],
    # the context never hidden in training: what the context dropout buys on turns without one
    "input-no-dropout": ["model.context.feed=input", "model.context.dropout=0"],
}
MEASURES = {  # the figure, and where evaluate --json has it
    "F1": ("slot_f1",),
    "F1 requested": ("by_context", "with_requested_slot", "slot_f1"),
    "F1 bare answers": ("by_context", "bare_answers", "slot_f1"),
}
WITHOUT_CONTEXT = "F1, test without context"  # the same test turns with their context left out


def slotfill(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "slotfill.cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"slotfill {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def measured(metrics: dict, path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(metrics, dict) or key not in metrics:
            return None
        metrics = metrics[key]
    return round(100 * metrics, 2)


def run(data: Path, domain: str, training: str, setting: str, seed: int, scratch: Path) -> dict:
    """One training and its test scores."""
    output = scratch / f"{domain}-{training}-{setting}-{seed}"
    overrides = [
        f"data.dir={data}", f"data.train={domain}/{TRAINING[training]}", f"data.test={domain}/test.json",
        "data.dataset=null", f"seed={seed}", "device=cpu", *SETTINGS[setting],
    ]  # fmt: skip
    slotfill("train", str(ROOT / "configs" / "dstc8.yaml"), "--output", str(output), "--overwrite",
             *(item for override in overrides for item in ("--set", override)))  # fmt: skip
    metrics = json.loads(slotfill("evaluate", str(output), str(data / domain / "test.json"), "--json"))
    result = {"domain": domain, "training": training, "setting": setting, "seed": seed}
    result.update({name: measured(metrics, path) for name, path in MEASURES.items()})
    stripped = scratch / f"{domain}-test-without-context.json"
    if not stripped.exists():
        turns = json.loads((data / domain / "test.json").read_text(encoding="utf-8"))
        stripped.write_text(json.dumps([{k: v for k, v in t.items() if k != "context"} for t in turns]))
    plain = json.loads(slotfill("evaluate", str(output), str(stripped), "--format", "polyai", "--json"))
    result[WITHOUT_CONTEXT] = measured(plain, ("slot_f1",))
    result["turns requested"] = metrics.get("by_context", {}).get("with_requested_slot", {}).get("turns")
    result["bare answers"] = metrics.get("by_context", {}).get("bare_answers", {}).get("turns")
    return result


def table(results: list[dict], settings: list[str]) -> str:
    """Mean ± std over the seeds, a row per domain, training set and setting."""
    names = [*MEASURES, WITHOUT_CONTEXT]
    lines = ["| domain | training | setting | seeds | " + " | ".join(names) + " |", "|---" * (4 + len(names)) + "|"]
    for domain in DOMAINS:
        for training in TRAINING:
            for setting in settings:
                runs = [r for r in results if (r["domain"], r["training"], r["setting"]) == (domain, training, setting)]
                if not runs:
                    continue
                cells = []
                for name in names:
                    values = [r[name] for r in runs if r.get(name) is not None]
                    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
                    cells.append(f"{statistics.mean(values):.2f}{spread}" if values else "–")
                lines.append(f"| {domain} | {training} | {setting} | {len(runs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--data", type=Path, required=True, help="the dstc8 dataset directory (slotfill data path dstc8)"
    )
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--settings", default="off,input", help=f"comma-separated, of: {', '.join(SETTINGS)}")
    parser.add_argument("--training", default="full,train_4", help=f"comma-separated, of: {', '.join(TRAINING)}")
    parser.add_argument("--domains", default=",".join(DOMAINS))
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "dstc8")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    settings, trainings, domains = (value.split(",") for value in (args.settings, args.training, args.domains))
    args.out.mkdir(parents=True, exist_ok=True)
    store = args.out / "results.json"
    results = json.loads(store.read_text())["runs"] if args.resume and store.exists() else []
    done = {(r["domain"], r["training"], r["setting"], r["seed"]) for r in results}
    with tempfile.TemporaryDirectory(prefix="slotfill-dstc8-") as scratch:
        for domain in domains:
            for training in trainings:
                for setting in settings:
                    for seed in range(1, args.seeds + 1):
                        if (domain, training, setting, seed) in done:
                            continue
                        results.append(run(args.data.resolve(), domain, training, setting, seed, Path(scratch)))
                        print(json.dumps(results[-1]), flush=True)
                        store.write_text(json.dumps({"runs": results}, indent=1) + "\n")
                        (args.out / "results.md").write_text(table(results, list(SETTINGS)))
    print(table(results, list(SETTINGS)))


if __name__ == "__main__":
    main()
