#!/usr/bin/env python3
"""Patterns measured (docs/patterns.md): a customer-support dataset whose slots have shapes (order
numbers like "KX-48213-B", emails, phone numbers), generated with a seed, trained with few examples
with and without `patterns:` for those shapes, each scored on a test split of unseen values.

    python scripts/bench/patterns.py [--seeds 1,2,3] [--train 60] [--out bench/patterns]

Prints and writes OUT/results.json: slot F1 per slot type, without patterns, with them as features
only, and as features and extractors. Trains on the CPU in about a minute a run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import string
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from slotfill.config import config_from_dict  # noqa: E402
from slotfill.data.formats import read_split  # noqa: E402
from slotfill.evaluation.evaluate import evaluate_model  # noqa: E402
from slotfill.predict import Predictor  # noqa: E402
from slotfill.training.loop import train  # noqa: E402

PATTERNS = {
    "order_number": r"\b[A-Z]{2}-\d{5}-[A-Z]\b",
    "email": r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b",
    "phone": r"(?<!\w)\+?\d[\d ]{7,14}\d\b",
}
TEMPLATES = [
    ("track_order", "where is my order {order_number}"),
    ("track_order", "can you check order {order_number} please"),
    ("track_order", "status of {order_number}"),
    ("track_order", "i never got {order_number} , it was due last week"),
    ("contact", "email me at {email}"),
    ("contact", "my address is {email} if you need it"),
    ("contact", "send the receipt to {email}"),
    ("contact", "call me on {phone}"),
    ("contact", "my number is {phone} , call after 5"),
    ("contact", "you can reach me at {phone} or {email}"),
    ("return", "i want to return {order_number}"),
    ("return", "refund order {order_number} and email {email}"),
]
FIRST = "anna ben chloe dev emma farid gita hugo ines jon kira liam mona nils olga paul".split()
DOMAINS = "example.com mail.org post.net inbox.co.uk shop.io".split()


def value(kind: str, rng: random.Random) -> str:
    if kind == "order_number":
        letters = "".join(rng.choices(string.ascii_uppercase, k=2))
        return f"{letters}-{rng.randint(10000, 99999)}-{rng.choice(string.ascii_uppercase)}"
    if kind == "email":
        return f"{rng.choice(FIRST)}{rng.choice(['.', '_', ''])}{rng.choice(FIRST)}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"
    digits = "".join(rng.choices(string.digits, k=10))
    return rng.choice([f"+44 {digits[:4]} {digits[4:]}", f"0{digits[:3]} {digits[3:6]} {digits[6:]}", digits])


def utterance(rng: random.Random) -> dict:
    intent, template = rng.choice(TEMPLATES)
    text, slots = "", []
    for i, part in enumerate(template.replace("}", "{").split("{")):
        if i % 2 == 0:
            text += part
        else:
            filled = value(part, rng)
            slots.append({"start": len(text), "end": len(text) + len(filled), "slot": part})
            text += filled
    return {"text": text, "intent": intent, "slots": slots}


def write_data(folder: Path, train_size: int, seed: int) -> None:
    rng = random.Random(seed)
    for name, size in (("train", train_size), ("dev", 100), ("test", 300)):
        lines = [json.dumps(utterance(rng)) for _ in range(size)]
        (folder / f"{name}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def config(folder: Path, seed: int, patterns: dict) -> object:
    return config_from_dict(
        {
            "seed": seed,
            "device": "cpu",
            "data": {
                "format": "spans",
                "dir": str(folder),
                "train": "train.jsonl",
                "dev": "dev.jsonl",
                "test": "test.jsonl",
            },
            "model": {
                "embedding": {"dim": 32, "word_dropout": 0.1},
                "chars": {"enabled": True, "dim": 16, "filters": 32, "kernel_size": 3},
                "encoder": {"hidden_size": 64},
            },
            "training": {"epochs": 15, "batch_size": 16, "lr": 0.005, "patience": 15},
            "out_of_scope": {"method": "class", "noise": 0},
            "patterns": patterns,
        }
    )


SETTINGS = {
    "no patterns": {},
    "patterns as features": dict(PATTERNS),
    "features and extractors": {name: {"regex": regex, "slot": name} for name, regex in PATTERNS.items()},
}


def run(seed: int, train_size: int, scratch: Path) -> dict:
    folder = scratch / f"data-{seed}"
    folder.mkdir()
    write_data(folder, train_size, seed)
    test = read_split(folder / "test.jsonl")
    measured = {}
    for setting, patterns in SETTINGS.items():
        output = scratch / f"{setting.replace(' ', '-')}-{seed}"
        train(config(folder, seed, patterns), output)
        predictor = Predictor.load(output, "cpu", values=False)
        if setting == "features and extractors":  # the extractor acts in parses: score the parses' slots
            measured[setting] = _parse_f1(predictor, folder / "test.jsonl")
        else:
            metrics = evaluate_model(predictor.loaded, test).metrics  # type: ignore[attr-defined]
            measured[setting] = {slot: round(100 * row["f1"], 2) for slot, row in metrics["per_slot"].items()}
            measured[setting]["all"] = round(100 * metrics["slot_f1"], 2)
    return measured


def _parse_f1(predictor: Predictor, test: Path) -> dict:
    """Exact-span slot F1 of the parses against the gold spans, per slot type and in all."""
    gold_rows = [json.loads(line) for line in test.read_text(encoding="utf-8").splitlines()]
    counts: dict[str, list[int]] = {}
    for row, parsed in zip(gold_rows, predictor.parse_many([r["text"] for r in gold_rows])):
        gold = {(s["start"], s["end"], s["slot"]) for s in row["slots"]}
        found = {(s["start"], s["end"], s["slot"]) for s in parsed["slots"]}
        for key in ("all", *{g[2] for g in gold | found}):
            right = sum(1 for g in gold & found if key in ("all", g[2]))
            tally = counts.setdefault(key, [0, 0, 0])
            tally[0] += right
            tally[1] += sum(1 for f in found if key in ("all", f[2]))
            tally[2] += sum(1 for g in gold if key in ("all", g[2]))
    return {key: round(200 * r / (p + g), 2) if p + g else 0.0 for key, (r, p, g) in counts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--train", type=int, default=60)
    parser.add_argument("--out", type=Path, default=Path("bench/patterns"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="slotfill-patterns-") as scratch:
        for seed in (int(s) for s in args.seeds.split(",")):
            results[seed] = run(seed, args.train, Path(scratch))
            print(seed, json.dumps(results[seed]), flush=True)
    lines = ["| setting | " + " | ".join(["all", *PATTERNS]) + " |", "|---|" + "---|" * (len(PATTERNS) + 1)]
    for setting in SETTINGS:
        cells = []
        for key in ["all", *PATTERNS]:
            values = [r[setting].get(key, 0.0) for r in results.values()]
            spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
            cells.append(f"{statistics.mean(values):.2f}{spread}")
        lines.append(f"| {setting} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps({"train": args.train, "seeds": results}, indent=1) + "\n")
    (args.out / "results.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
