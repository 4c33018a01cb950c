"""What a dataset holds: sentences, tokens, slots and intents per split, and the labels of dev and
test that train never shows (a model cannot predict those)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from slotfill.data.readers import Example, read_split
from slotfill.errors import DataError
from slotfill.text import bio

SPLIT_NAMES = ("train", "dev", "test")


def find_splits(path: Path) -> dict[str, Path]:
    """The splits under a dataset directory (`train`, `dev`, `test`, as directories or as files
    `train.jsonl`, ...), or {"data": path} for a single split."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if path.is_dir() and not (path / "seq.in").exists():
        found = {}
        for name in SPLIT_NAMES:
            candidates = [path / name] if (path / name).exists() else sorted(path.glob(f"{name}.*"))
            if candidates:
                found[name] = candidates[0]
        if found:
            return found
    return {"data": path}


def split_stats(examples: Sequence[Example]) -> dict[str, Any]:
    slots: Counter[str] = Counter(span.label for e in examples for span in bio.spans(e.tags))
    intents: Counter[str] = Counter(e.intent for e in examples if e.intent is not None)
    return {
        "sentences": len(examples),
        "tokens": sum(len(e.tokens) for e in examples),
        "slots": dict(slots.most_common()),
        "intents": dict(intents.most_common()),
    }


def dataset_stats(path: Path, fmt: str = "auto") -> dict[str, Any]:
    """Stats of every split under `path`; `unseen` lists, per split, the slot labels and intents
    train does not have, with their counts."""
    splits = {name: split_stats(read_split(where, fmt)) for name, where in find_splits(path).items()}
    result: dict[str, Any] = {"splits": splits}
    if "train" in splits:
        train = splits["train"]
        result["unseen"] = {
            name: {
                "slots": {label: n for label, n in stats["slots"].items() if label not in train["slots"]},
                "intents": {label: n for label, n in stats["intents"].items() if label not in train["intents"]},
            }
            for name, stats in splits.items()
            if name != "train"
        }
    return result
