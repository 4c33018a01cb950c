"""The slots of a whole batch of decoded tag ids at once, and their confidences in one gather.

Spans are read as conlleval (and slotfill.text.bio.spans) reads them: a token continues the span
before it when its tag is I-x and the previous tag is B-x or I-x; every other tag but O starts a
span. On (B, L) arrays that is one comparison with the previous column, so a batch's slots cost a
few numpy operations instead of a Python loop over every tag of every sentence.

A span's confidence is exp(start[s] + prefix[e] - prefix[s] + end[e]) over the decoding's three
(B, L) span scores (slotfill.decoding.crf says what they are), gathered for every span of the batch
together and summed in float64 in that order, as the one-span formula always was.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from slotfill.text.bio import OUTSIDE, split_tag


def continuation_index(tags: Sequence[str]) -> np.ndarray:
    """(T,) int64: for B-x and I-x the index of I-x (the tag that would extend the slot), else -1."""
    index = {tag: i for i, tag in enumerate(tags)}
    return np.array([index.get(f"I-{tag[2:]}", -1) if tag != OUTSIDE else -1 for tag in tags], dtype=np.int64)


class TagTable(NamedTuple):
    """What spans need of a tag set, built once per call from the tag names."""

    continuation: np.ndarray  # (T,) int64: see continuation_index
    outside: np.ndarray  # (T,) bool: O
    inside: np.ndarray  # (T,) bool: I-x
    label: np.ndarray  # (T,) int64: the tag's slot label, an index into `labels` (-1 for O)
    labels: tuple[str, ...]  # the slot labels, in order of first appearance among the tags

    @classmethod
    def for_tags(cls, tags: Sequence[str]) -> TagTable:
        parsed = [split_tag(tag) for tag in tags]
        labels = tuple(dict.fromkeys(label for prefix, label in parsed if prefix != OUTSIDE))
        number = {label: i for i, label in enumerate(labels)}
        return cls(
            continuation_index(tags),
            np.array([prefix == OUTSIDE for prefix, _ in parsed], dtype=bool),
            np.array([prefix == "I" for prefix, _ in parsed], dtype=bool),
            np.array([number.get(label, -1) for _, label in parsed], dtype=np.int64),
            labels,
        )


class BatchSpans(NamedTuple):
    """Every span of a batch, ordered by sentence, then position: (S,) arrays."""

    rows: np.ndarray  # int64: the sentence
    starts: np.ndarray  # int64: its first token
    ends: np.ndarray  # int64: one past its last token
    labels: np.ndarray  # int64: into TagTable.labels
    begins_inside: np.ndarray  # bool: the first tag is I-x (a slot conlleval starts without its B-x)

    def bounds(self, num_rows: int) -> np.ndarray:
        """(num_rows + 1,): the spans of sentence r are those from bounds[r] to bounds[r + 1]."""
        return np.searchsorted(self.rows, np.arange(num_rows + 1))


def batch_spans(table: TagTable, paths: np.ndarray, lengths: np.ndarray) -> BatchSpans:
    """The spans of (B, L) tag ids, each sentence read up to its length (B,)."""
    steps = paths.shape[1]
    real = np.arange(steps)[None, :] < np.asarray(lengths)[:, None]  # (B, L)
    in_span = ~table.outside[paths] & real  # (B, L)
    continues = np.zeros(paths.shape, dtype=bool)  # (B, L): the token extends the span before it
    continues[:, 1:] = (paths[:, 1:] == table.continuation[paths[:, :-1]]) & real[:, 1:]
    ends_here = np.ones(paths.shape, dtype=bool)  # (B, L): the next token does not extend it
    ends_here[:, :-1] = ~continues[:, 1:]
    rows, starts = np.nonzero(in_span & ~continues)  # (S,) each, row-major: sentence, then position
    _, lasts = np.nonzero(in_span & ends_here)  # the same spans, in the same order
    first_tags = paths[rows, starts]
    return BatchSpans(rows, starts, lasts + 1, table.label[first_tags], table.inside[first_tags])


def span_confidences(scores: tuple[np.ndarray, np.ndarray, np.ndarray], spans: BatchSpans) -> list[float]:
    """P(span) for every span, from the (start, prefix, end) (B, L) log scores, clipped to [0, 1]."""
    first, prefix, after = scores
    rows, starts, lasts = spans.rows, spans.starts, spans.ends - 1
    log_p = (
        first[rows, starts].astype(np.float64)
        + prefix[rows, lasts].astype(np.float64)
        - prefix[rows, starts].astype(np.float64)
        + after[rows, lasts].astype(np.float64)
    )  # (S,), summed left to right as floats
    return [min(1.0, max(0.0, math.exp(value))) for value in log_p.tolist()]
