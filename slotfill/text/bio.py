"""BIO tag helpers: spans, repair, and the transition constraints a CRF enforces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

OUTSIDE = "O"


class Span(NamedTuple):
    """A slot over tokens `start` (inclusive) to `end` (exclusive)."""

    label: str
    start: int
    end: int


def split_tag(tag: str) -> tuple[str, str]:
    """("B", "toloc.city_name") for "B-toloc.city_name"; ("O", "") for "O"."""
    if tag == OUTSIDE:
        return OUTSIDE, ""
    prefix, sep, label = tag.partition("-")
    if not sep or prefix not in ("B", "I") or not label:
        raise ValueError(f"not a BIO tag: {tag!r}")
    return prefix, label


def is_bio_tag(tag: str) -> bool:
    try:
        split_tag(tag)
    except ValueError:
        return False
    return True


def spans(tags: Sequence[str]) -> list[Span]:
    """Slot spans of a tag sequence, with conlleval's reading: an I-x that does not
    continue an x span starts a new one."""
    found: list[Span] = []
    label, start = None, 0
    for i, tag in enumerate(tags):
        prefix, tag_label = split_tag(tag)
        continues = prefix == "I" and tag_label == label
        if label is not None and not continues:
            found.append(Span(label, start, i))
            label = None
        if prefix != OUTSIDE and not continues:
            label, start = tag_label, i
    if label is not None:
        found.append(Span(label, start, len(tags)))
    return found


def tags_from_spans(spans_: Sequence[Span], length: int) -> list[str]:
    """The BIO sequence of `length` tokens holding `spans_` (non-overlapping)."""
    tags = [OUTSIDE] * length
    for label, start, end in spans_:
        tags[start] = f"B-{label}"
        for i in range(start + 1, end):
            tags[i] = f"I-{label}"
    return tags


def fill_skipped(shown_tags: Sequence[str], positions: Sequence[int], length: int) -> list[str]:
    """Tags for all `length` tokens of a sentence of which only those at `positions` were tagged
    (punctuation is not shown to the model). A skipped token between two tokens of one slot
    continues that slot (`I-x`, so the slot's text spans it); every other skipped token is `O`."""
    tags = [OUTSIDE] * length
    for k, (tag, position) in enumerate(zip(shown_tags, positions)):
        tags[position] = tag
        if k and tag.startswith("I-"):
            for skipped in range(positions[k - 1] + 1, position):
                tags[skipped] = tag
    return tags


def repair(tags: Sequence[str]) -> tuple[list[str], int]:
    """Make a sequence valid BIO: an I-x that does not follow B-x or I-x becomes B-x.
    Returns the repaired tags and how many were changed."""
    fixed, changed, previous_label = [], 0, None
    for tag in tags:
        prefix, label = split_tag(tag)
        if prefix == "I" and label != previous_label:
            tag, changed = f"B-{label}", changed + 1
        fixed.append(tag)
        previous_label = label if prefix != OUTSIDE else None
    return fixed, changed


def is_valid(tags: Sequence[str]) -> bool:
    return repair(tags)[1] == 0


def allowed_transitions(tags: Sequence[str]) -> tuple[list[bool], list[list[bool]]]:
    """BIO constraints over a tag set: (may start a sentence, may follow) where
    `follow[i][j]` says whether tag j may come right after tag i. I-x may only start
    nowhere and only follow B-x or I-x; everything else is free."""
    parsed = [split_tag(tag) for tag in tags]
    start = [prefix != "I" for prefix, _ in parsed]
    follow = [
        [next_prefix != "I" or (prefix != OUTSIDE and label == next_label) for next_prefix, next_label in parsed]
        for prefix, label in parsed
    ]
    return start, follow
