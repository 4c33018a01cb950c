"""The data of a training run: its splits read as the config says, the training sentences as the
model sees them, the tags value substitution can create, and the warning about tokens the
runtime tokeniser would split differently."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from slotfill.config import Config
from slotfill.data.readers import Example, detect_format, read_split, without_punctuation
from slotfill.data.validate import tokenisation_problems, tokenisation_warning
from slotfill.errors import DataError
from slotfill.features.gazetteer_sources import slot_type
from slotfill.files import no_such_path
from slotfill.training.augment import substitution_lists

log = logging.getLogger("slotfill.training.loop")


@dataclass
class Splits:
    train: list[Example]
    dev: list[Example] | None
    test: list[Example] | None


def read_splits(config: Config) -> Splits:
    data = config.data

    if data.dir is None and data.dataset is not None and not data.resolved_dir().is_dir():
        raise DataError(
            f"data.dataset: {data.dataset} is not downloaded (looked in {data.resolved_dir()}): "
            f"run `slotfill data download {data.dataset}` (or --from a local copy)"
        )

    def read(key: str, name: str | None) -> list[Example] | None:
        if name is None:
            return None
        path = data.split_path(name)
        if not path.exists():
            raise DataError(no_such_path(path.absolute(), f"data.{key}: "))  # a config's paths: absolute
        structural_mismatch = data.format != "auto" and (data.format == "atis") != path.is_dir()
        if key == "train" and len(data.train_splits) > 1 and structural_mismatch:
            raise DataError(
                f"data.train: {path.absolute()} is in the {detect_format(path)} format and data.format says "
                f"{data.format}: give data.format: auto to read each split in its own format"
            )
        return read_split(path, data.format, strict_bio=data.strict_bio, misaligned=data.misaligned)

    train = [example for name in data.train_splits for example in read("train", name) or []]
    return Splits(train, read("dev", data.dev), read("test", data.test))


def model_view(examples: list[Example], where: str) -> list[Example]:
    """Training examples as the model sees them: punctuation left out, sentences of nothing but
    punctuation dropped; one warning when slots were nothing but punctuation."""
    viewed, lost = [], 0
    for example in examples:
        shown, lost_here = without_punctuation(example)
        lost += lost_here
        if shown.tokens:
            viewed.append(shown)
    if lost:
        log.warning("%s: %d slots are only punctuation, which the model never tags; they are left out", where, lost)
    return viewed


def warn_about_tokenisation(config: Config, train: list[Example]) -> None:
    """One warning, with a count and three examples, when training tokens would be split
    differently by the tokeniser at prediction time (pre-tokenised formats only)."""
    path = train_where(config)
    first = config.data.split_path(config.data.train_splits[0])
    fmt = detect_format(first) if config.data.format == "auto" else config.data.format
    warning = tokenisation_warning(tokenisation_problems(train, path, fmt), path)
    if warning is not None:
        log.warning("%s", warning)


def train_where(config: Config) -> Path:
    """The training split's path for messages (the first one's when there are several)."""
    return config.data.split_path(config.data.train_splits[0])


def substituted_tags(config: Config, examples: list[Example]) -> list[str]:
    """The I- tags of every substitutable slot label: a substituted value may be longer than any in train."""
    if not config.training.substitution:
        return []
    types = substitution_lists(config.gazetteers)
    labels = {tag[2:] for example in examples for tag in example.tags if tag.startswith("B-")}
    return sorted(f"I-{label}" for label in labels if slot_type(label) in types)
