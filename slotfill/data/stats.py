"""What a dataset holds: sentences, tokens, slots and intents per split, and the labels of dev and
test that train never shows (a model cannot predict those)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from slotfill.data.example import Example
from slotfill.data.formats import iter_split
from slotfill.errors import DataError
from slotfill.files import no_such_path
from slotfill.text import bio

SPLIT_NAMES = ("train", "dev", "test")


def find_splits(path: Path) -> dict[str, Path]:
    """The splits under a dataset directory (`train`, `dev`, `test`, as directories or as files
    `train.jsonl`, ...), or {"data": path} for a single split."""
    path = Path(path)
    if not path.exists():
        raise DataError(no_such_path(path))
    if path.is_dir() and not (path / "seq.in").exists():
        found = {}
        for name in SPLIT_NAMES:
            candidates = [path / name] if (path / name).exists() else sorted(path.glob(f"{name}.*"))
            if candidates:
                found[name] = candidates[0]
        if found:
            return found
    return {"data": path}


def split_stats(examples: Iterable[Example]) -> dict[str, Any]:
    """Counts over a split, read as it is iterated (never held whole)."""
    slots: Counter[str] = Counter()
    intents: Counter[str] = Counter()
    requested: Counter[str] = Counter()
    sentences = tokens = with_context = 0
    for example in examples:
        sentences, tokens = sentences + 1, tokens + len(example.tokens)
        slots.update(span.label for span in bio.spans(example.tags))
        if example.intent is not None:
            intents[example.intent] += 1
        if example.context:
            with_context += 1
            requested.update(example.context.requested_slots)
    return {
        "sentences": sentences,
        "tokens": tokens,
        "slots": dict(slots.most_common()),
        "intents": dict(intents.most_common()),
        # the dialogue context: the turns that answer a requested slot, and how often each is requested
        "requested": {"turns": with_context, "slots": dict(requested.most_common())},
    }


def _stats_of(path: Path, fmt: str) -> dict[str, Any]:
    stats = split_stats(iter_split(path, fmt))
    if not stats["sentences"]:
        raise DataError(f"{path}: no sentences (empty split)")
    return stats


def dataset_stats(path: Path, fmt: str = "auto") -> dict[str, Any]:
    """Stats of every split under `path`; `unseen` lists, per split, the slot labels and intents
    train does not have, with their counts."""
    splits = {name: _stats_of(where, fmt) for name, where in find_splits(path).items()}
    result: dict[str, Any] = {"splits": splits, "has_intents": any(s["intents"] for s in splits.values())}
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
