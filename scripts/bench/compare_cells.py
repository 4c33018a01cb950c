#!/usr/bin/env python3
"""Train every recurrent cell on ATIS with the same parameter budget and compare them.

    python scripts/bench/compare_cells.py [--config configs/atis.yaml] [--epochs 15] [--out bench/cells.md]

Each cell gets the hidden size that gives its encoder about as many parameters as the LSTM
encoder of `--hidden` units (the budget); everything else comes from the config. Reports test
slot F1, intent accuracy, parameters, training seconds and batch tagging speed (sentences/s over
the test sentences) as a markdown table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from slotfill.config import Config, load_config
from slotfill.data.formats import read_split
from slotfill.data.splits import read_splits
from slotfill.features.vocab import Vocab
from slotfill.nn.encoders import CELLS
from slotfill.nn.tagger import build_tagger
from slotfill.predict import Predictor
from slotfill.training.loop import train


def encoder_parameters(config: Config, vocab: Vocab) -> int:
    return sum(p.numel() for p in build_tagger(config.model, vocab, 0).encoder.parameters())


def with_cell(config: Config, cell: str, hidden: int) -> Config:
    raw = config.model_dump()
    raw["model"]["encoder"].update(cell=cell, hidden_size=hidden)
    return Config.model_validate(raw)


def budget_hidden_size(config: Config, vocab: Vocab, cell: str, budget: int) -> int:
    """The hidden size whose encoder parameter count is closest to `budget`."""
    best, best_gap = 1, None
    low, high = 1, 2048
    while low <= high:  # parameter count grows with the hidden size
        middle = (low + high) // 2
        count = encoder_parameters(with_cell(config, cell, middle), vocab)
        gap = abs(count - budget)
        if best_gap is None or gap < best_gap:
            best, best_gap = middle, gap
        if count < budget:
            low = middle + 1
        else:
            high = middle - 1
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/atis.yaml")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--hidden", type=int, default=128, help="LSTM hidden size that sets the budget")
    parser.add_argument("--cells", nargs="*", default=list(CELLS))
    parser.add_argument("--out", type=Path, default=Path("bench/cells.md"))
    args = parser.parse_args()

    config = load_config(
        args.config, [f"training.epochs={args.epochs}", f"training.patience={args.epochs}", "device=cpu"]
    )
    vocab = Vocab.build(read_splits(config.data).train, min_freq=config.vocab.min_freq)
    budget = encoder_parameters(with_cell(config, "lstm", args.hidden), vocab)
    test = read_split(config.data.split_path(config.data.test or "test"), config.data.format)
    texts = [" ".join(example.tokens) for example in test]
    rows = []
    with tempfile.TemporaryDirectory(prefix="slotfill-cells-") as scratch:
        for cell in args.cells:
            hidden = budget_hidden_size(config, vocab, cell, budget)
            cell_config = with_cell(config, cell, hidden)
            result = train(cell_config, Path(scratch) / cell)
            assert result.test is not None
            predictor = Predictor.load(result.model_dir, "cpu")
            seconds = []
            for _ in range(3):
                start = time.perf_counter()
                list(predictor.parse_many(texts))
                seconds.append(time.perf_counter() - start)
            row = {
                "cell": cell,
                "hidden_size": hidden,
                "encoder_parameters": encoder_parameters(cell_config, vocab),
                "parameters": sum(p.numel() for p in predictor.loaded.tagger.parameters()),
                "slot_f1": result.test["slot_f1"],
                "intent_accuracy": result.test.get("intent_accuracy"),
                "train_seconds": round(result.seconds, 1),
                "sentences_per_second": round(len(texts) / statistics.median(seconds)),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)

    lines = [
        f"Cells compared on ATIS test: `{args.config}`, {args.epochs} epochs, encoder budget {budget:,} parameters "
        f"(a BiLSTM of {args.hidden} units).",
        "",
        "| cell | hidden | encoder params | all params | slot F1 | intent acc. | train s | sent/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        intent = f"{100 * row['intent_accuracy']:.2f}" if row["intent_accuracy"] is not None else "–"
        lines.append(
            f"| `{row['cell']}` | {row['hidden_size']} | {row['encoder_parameters']:,} | {row['parameters']:,} "
            f"| {100 * row['slot_f1']:.2f} | {intent} | {row['train_seconds']} | {row['sentences_per_second']:,} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    (args.out.with_suffix(".json")).write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
