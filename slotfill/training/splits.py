"""The training sentences as the model sees them, and the tags value substitution can create
(the splits themselves are read by slotfill.data.splits)."""

from __future__ import annotations

import logging

from slotfill.config import Config
from slotfill.data.example import Example, without_punctuation
from slotfill.features.gazetteer_sources import slot_type
from slotfill.training.augment import substitution_lists

log = logging.getLogger("slotfill.training.loop")


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


def substituted_tags(config: Config, examples: list[Example]) -> list[str]:
    """The I- tags of every substitutable slot label: a substituted value may be longer than any in train."""
    if not config.training.substitution:
        return []
    types = substitution_lists(config.gazetteers)
    labels = {tag[2:] for example in examples for tag in example.tags if tag.startswith("B-")}
    return sorted(f"I-{label}" for label in labels if slot_type(label) in types)
