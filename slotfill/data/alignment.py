"""Annotated character spans onto tokens: every span problem real data has, and the one policy that
decides what reading does with each (training, evaluation and `data validate` alike).

A span off token boundaries ("friday" in "friday's", "6:30 a.m" without its final period), two
spans that then share a token, two spans that overlap as annotated, punctuation tokens at a span's
edge ("5:30 pm ."), a record without any token: each is a SpanProblem, and SpanPolicy.handle says
whether it stops reading (DataError), leaves the sentence out, or is counted while the span is
expanded, contracted, trimmed or the longer of two kept (docs/data.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from slotfill.data.spans import AnnotatedText
from slotfill.errors import DataError
from slotfill.text import bio
from slotfill.text.tokenise import Token, tokenise


@dataclass(frozen=True)
class SpanProblem:
    """An annotated span that needed something done to it, and what was made of it. `reason`:
    "boundaries": it does not fall on token boundaries; "overlap": once it and an earlier span were
    widened to whole tokens, it shares a token with it; "overlapping": it overlaps another span in
    the annotation itself; "punctuation": punctuation tokens at its edge ("5:30 pm ."); "empty":
    a record with no token at all (nothing to learn from; `label` is empty). `start` and `end` are
    character offsets, token positions for "punctuation" (found on tokens and tags, every format)."""

    where: str  # FILE:LINE
    label: str
    start: int
    end: int
    text: str  # the annotated characters
    tokens: str  # the utterance's tokens, " | "-separated
    reason: str = "boundaries"
    kept: str | None = None  # what is left of it or, overlapping, of the two ("": dropped); None: nothing decided yet
    other: str = ""  # overlapping: the span it overlaps, "'date' ('in an hour today')"

    def message(self) -> str:
        if self.reason == "empty":
            return "a record without any token (left out)"
        if self.reason == "punctuation":
            outcome = "" if self.kept is None else f"; trimmed to {self.kept!r}" if self.kept else "; dropped"
            return f"slot {self.label!r} ({self.text!r}) has punctuation at its edge{outcome}"
        where = f"slot {self.label!r} at characters {self.start}-{self.end} ({self.text!r})"
        if self.reason == "boundaries":
            return f"{where} does not fall on token boundaries (tokens: {self.tokens})"
        if self.reason == "overlapping":
            kept = "" if self.kept is None else f"; only {self.kept!r}, the longer, is kept"
            return f"{where} overlaps slot {self.other} in the annotation itself{kept}"
        outcome = "" if self.kept is None else f"; kept as {self.kept!r}" if self.kept else "; dropped (no token left)"
        return f"{where} shares a token with an earlier slot once both fall on tokens (tokens: {self.tokens}){outcome}"


# the key of the config's `data` section (and of SpanPolicy) that decides each kind of span problem
POLICY_KEYS = {
    "boundaries": "misaligned", "overlap": "misaligned", "overlapping": "overlapping", "punctuation": "span_punctuation",
}  # fmt: skip


@dataclass(frozen=True)
class SpanPolicy:
    """What reading does with every kind of span problem (the config's `data` keys misaligned,
    overlapping and span_punctuation; docs/data.md). Training and `data validate` both read through
    `handle`, so what one says is done is what the other does."""

    misaligned: str = "expand"  # boundaries and overlap: expand | contract | skip_sentence | error
    overlapping: str = "longer"  # spans overlapping as annotated: longer | skip_sentence | error
    span_punctuation: str = "trim"  # punctuation tokens at a span's edge: trim | keep | error

    def choice(self, reason: str) -> str:
        """What is done with a span problem of kind `reason` (a record without tokens: left out)."""
        return "skip_sentence" if reason == "empty" else getattr(self, POLICY_KEYS[reason])

    def handle(self, problem: SpanProblem) -> bool:
        """Raise DataError where the policy for `problem`'s kind is `error`; else True when the
        sentence is left out (skip_sentence, or a record without tokens), False when it is kept."""
        choice = self.choice(problem.reason)
        if choice == "error":
            raise DataError(f"{problem.where}: {replace(problem, kept=None).message()}")
        return choice == "skip_sentence"


def to_tokens(
    item: AnnotatedText, policy: SpanPolicy = SpanPolicy(misaligned="error")
) -> tuple[list[str], list[str], list[SpanProblem]]:
    """Tokens (slotfill's tokeniser) and BIO tags of an annotated text, and its span problems, each
    handled by `policy` (SpanPolicy.handle: raised, or counted; a sentence left out has no tokens).
    A span off token boundaries, by `policy.misaligned`: `expand` covers every token it touches,
    `contract` only the tokens wholly inside it (none: the span is dropped). A span that then shares
    a token with an earlier one ("Mike" and "el 6 de Agosto" in "Mikeel 6 de Agosto") is handled by
    the same policy: expand and contract keep the earlier span and give the later the tokens left
    ("6 de Agosto"; none left: dropped). Spans that overlap in the annotation itself ("in an hour"
    inside "today in an hour"): the longer is kept (`policy.overlapping`)."""
    tokens = tokenise(item.text)
    starts = {token.start: i for i, token in enumerate(tokens)}
    ends = {token.end: i for i, token in enumerate(tokens)}
    tags = [bio.OUTSIDE] * len(tokens)
    found: list[SpanProblem] = []

    def report(problem: SpanProblem) -> bool:
        """Handle `problem` by the policy (raised, or counted); True when the sentence is left out."""
        left_out = policy.handle(problem)
        found.append(problem)
        return left_out

    spans = _checked_spans(item, tokens, report)
    if spans is None or (not tokens and report(SpanProblem(item.where, "", 0, 0, item.text, "", "empty"))):
        return [], [], found
    for start, end, label in spans:
        touched = list(range(starts[start], ends[end] + 1)) if start in starts and end in ends else None
        if touched is None:
            if report(_span_problem(item, tokens, start, end, label)):
                return [], [], found
            touched = [i for i, t in enumerate(tokens) if t.start < end and t.end > start]
            if policy.misaligned == "contract":
                touched = [i for i in touched if tokens[i].start >= start and tokens[i].end <= end]
        # the spans come sorted by start and do not overlap as characters, so an earlier span can
        # hold only this one's first token (the one where it ends): what is left is contiguous
        free = [i for i in touched if tags[i] == bio.OUTSIDE]
        if len(free) < len(touched):
            kept = " ".join(tokens[i].text for i in free)
            if report(replace(_span_problem(item, tokens, start, end, label), reason="overlap", kept=kept)):
                return [], [], found
        if free:
            tags[free[0] : free[-1] + 1] = bio.tags_from_spans([bio.Span(label, 0, len(free))], len(free))
    return [t.text for t in tokens], tags, found


def _span_problem(item: AnnotatedText, tokens: Sequence[Token], start: int, end: int, label: str) -> SpanProblem:
    return SpanProblem(item.where, label, start, end, item.text[start:end], " | ".join(t.text for t in tokens))


def _checked_spans(
    item: AnnotatedText, tokens: Sequence[Token], report: Callable[[SpanProblem], bool]
) -> list[tuple[int, int, str]] | None:
    """The spans of `item` without the spaces around their text, sorted, where two overlap as
    annotated the longer one only (the earlier of two as long), each such overlap reported (None:
    the sentence is left out); DataError for a span outside the text or empty."""
    spans = []
    for start, end, label in item.spans:
        value = item.text[start:end] if 0 <= start <= end else ""
        if 0 <= start <= end <= len(item.text) and value.strip():  # spaces around
            start, end = start + len(value) - len(value.lstrip()), end - len(value) + len(value.rstrip())
        if not 0 <= start < end <= len(item.text) or not item.text[start:end].strip():
            raise DataError(
                f"{item.where}: slot {label!r} at characters {start}-{end} is outside the text, empty or only spaces"
            )
        spans.append((start, end, label))
    spans.sort()
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if not kept or span[0] >= kept[-1][1]:
            kept.append(span)
            continue
        earlier = kept[-1]
        longer, shorter = (span, earlier) if span[1] - span[0] > earlier[1] - earlier[0] else (earlier, span)
        problem = replace(
            _span_problem(item, tokens, *shorter),
            reason="overlapping",
            kept=item.text[longer[0] : longer[1]],
            other=f"{longer[2]!r} ({item.text[longer[0] : longer[1]]!r})",
        )
        if report(problem):
            return None
        kept[-1] = longer
    return kept
