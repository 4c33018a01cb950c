"""One labelled utterance as every reader gives it and every stage reads it (import-light: tagging
an utterance needs this, not the readers of every data format)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from slotfill.data.context import NO_CONTEXT, Context
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
    # where it was read (FILE:LINE): what a problem found in it later names; not part of equality
    where: str | None = field(default=None, compare=False, repr=False)
    context: Context = NO_CONTEXT  # the dialogue state it answers (slotfill.data.context): part of the data


def without_punctuation(example: Example) -> tuple[Example, int]:
    """The example as the model sees it, punctuation tokens left out (slotfill.text.tokenise), and how many
    slots were lost because they were nothing but punctuation."""
    keep = [i for i, token in enumerate(example.tokens) if not is_punctuation(token)]
    if len(keep) == len(example.tokens):
        return example, 0
    tags, _ = bio.repair([example.tags[i] for i in keep])  # a dropped B-x before I-x: the I-x begins it
    lost = len(bio.spans(example.tags)) - len(bio.spans(tags))
    shown = replace(example, tokens=tuple(example.tokens[i] for i in keep), tags=tuple(tags), text=None)
    return shown, lost


def trim_span_punctuation(
    tokens: tuple[str, ...] | list[str], tags: tuple[str, ...] | list[str]
) -> tuple[list[str], list[tuple[bio.Span, bio.Span | None]]]:
    """The tags with every slot's punctuation tokens at either edge made O ("5:30 pm ." -> "5:30 pm";
    inside a slot they stay, and "St.", "U.S." or "5:30" are one token each, never punctuation),
    and each slot so trimmed with what is left of it (None: it was nothing but punctuation)."""
    trimmed = list(tags)
    changed: list[tuple[bio.Span, bio.Span | None]] = []
    for span in bio.spans(tags):
        start, end = span.start, span.end
        while start < end and is_punctuation(tokens[start]):
            start += 1
        while end > start and is_punctuation(tokens[end - 1]):
            end -= 1
        if (start, end) == (span.start, span.end):
            continue
        trimmed[span.start : span.end] = [bio.OUTSIDE] * (span.end - span.start)
        if start < end:
            trimmed[start:end] = bio.tags_from_spans([bio.Span(span.label, 0, end - start)], end - start)
        changed.append((span, bio.Span(span.label, start, end) if start < end else None))
    return trimmed, changed
