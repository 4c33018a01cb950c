"""A config's data, read in one step: every split its `data` section names, each in its format
(resolved once, a path at a time), the training splits in order as one set, the lookup lists the
training files carry, and the training tokens the runtime tokeniser would split differently.
Training receives these examples, never paths."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from slotfill.config import DataConfig
from slotfill.data.alignment import SpanPolicy
from slotfill.data.example import Example
from slotfill.data.formats import detect_format, read_named, read_split
from slotfill.data.spans import Entry
from slotfill.data.validate import Problem, tokenisation_problems
from slotfill.errors import DataError
from slotfill.files import no_such_path


@dataclass
class Splits:
    train: list[Example]  # every training split, in order, as read
    dev: list[Example] | None
    test: list[Example] | None
    train_where: Path = Path()  # the (first) training split: what messages name
    lookups: dict[str, list[Entry]] = field(default_factory=dict)  # the training files' lists, merged by name
    tokenisation: list[Problem] = field(default_factory=list)  # training tokens typed otherwise
    regexes: dict[str, list[str]] = field(default_factory=dict)  # the training files' Rasa regex entries, by name


def read_splits(data: DataConfig) -> Splits:
    """Every split of `data`; raises DataError (one line, naming the key and the path) for a
    dataset not downloaded, a missing split, or a fixed format that does not fit a path."""
    if data.dir is None and data.dataset is not None and not data.resolved_dir().is_dir():
        raise DataError(
            f"data.dataset: {data.dataset} is not downloaded (looked in {data.resolved_dir()}): "
            f"run `slotfill data download {data.dataset}` (or --from a local copy)"
        )
    train: list[Example] = []
    lookups: dict[str, list[Entry]] = {}
    regexes: dict[str, list[str]] = {}
    tokenisation: list[Problem] = []
    for name in data.train_splits:
        path, fmt = _located(data, "train", name)
        examples = read_split(path, fmt, strict_bio=data.strict_bio, policy=span_policy(data))
        train += examples
        tokenisation += tokenisation_problems(examples, path, fmt)
        named_lists, named_expressions = read_named(path, fmt)
        for key, entries in named_lists.items():
            lookups.setdefault(key, []).extend(entries)
        for key, expressions in named_expressions.items():
            regexes.setdefault(key, []).extend(expressions)
    return Splits(
        train,
        _read(data, "dev", data.dev),
        _read(data, "test", data.test),
        data.split_path(data.train_splits[0]),
        lookups,
        tokenisation,
        regexes,
    )


def _located(data: DataConfig, key: str, name: str) -> tuple[Path, str]:
    """A split's path and its format: the config's, or the path's own where the config says auto."""
    path = data.split_path(name)
    if not path.exists():
        raise DataError(no_such_path(path.absolute(), f"data.{key}: "))  # a config's paths: absolute
    if data.format == "auto":
        return path, detect_format(path)
    if key == "train" and len(data.train_splits) > 1 and (data.format == "atis") != path.is_dir():
        raise DataError(
            f"data.train: {path.absolute()} is in the {detect_format(path)} format and data.format says "
            f"{data.format}: give data.format: auto to read each split in its own format"
        )
    return path, data.format


def _read(data: DataConfig, key: str, name: str | None) -> list[Example] | None:
    if name is None:
        return None
    path, fmt = _located(data, key, name)
    return read_split(path, fmt, strict_bio=data.strict_bio, policy=span_policy(data))


def span_policy(data: DataConfig) -> SpanPolicy:
    """What the config's `data` section says reading does with each kind of span problem."""
    return SpanPolicy(data.misaligned, data.overlapping, data.span_punctuation)
