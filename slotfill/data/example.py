"""One labelled utterance as every reader gives it and every stage reads it (import-light: tagging
an utterance needs this, not the readers of every data format)."""

from __future__ import annotations

from dataclasses import dataclass, field

from slotfill.text import bio
from slotfill.text.tokenise import is_punctuation


@dataclass(frozen=True)
class Example:
    tokens: tuple[str, ...]
    tags: tuple[str, ...]
    intent: str | None = None
    # the raw text the tokens were cut from (the raw-text formats): written back as it was, so a
    # conversion between them is exact ("close-by" stays "close-by"); not part of equality
    text: str | None = field(default=None, compare=False, repr=False)


def without_punctuation(example: Example) -> tuple[Example, int]:
    """The example as the model sees it, punctuation tokens left out (slotfill.text.tokenise), and how many
    slots were lost because they were nothing but punctuation."""
    keep = [i for i, token in enumerate(example.tokens) if not is_punctuation(token)]
    if len(keep) == len(example.tokens):
        return example, 0
    tags, _ = bio.repair([example.tags[i] for i in keep])  # a dropped B-x before I-x: the I-x begins it
    lost = len(bio.spans(example.tags)) - len(bio.spans(tags))
    return Example(tuple(example.tokens[i] for i in keep), tuple(tags), example.intent), lost
