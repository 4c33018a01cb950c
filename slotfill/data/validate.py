"""Every problem of a dataset, found in one pass: malformed sentences and records (each with its
line, where training stops at the first), tokens the runtime tokeniser splits differently, annotated
spans that do not fall on token boundaries or that then share a token with another, BIO tags that
had to be repaired, slots of nothing but punctuation, intents on some sentences only, labels of
dev/test that train never shows, test sentences also in train, and intents or a dev split too
for the out-of-scope threshold (docs/out-of-scope.md).

`slotfill data validate PATH` reports them all; training warns about tokenisation and misaligned
spans itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from slotfill.choices import OUT_OF_SCOPE_LABEL
from slotfill.data.alignment import SpanProblem
from slotfill.data.example import Example
from slotfill.data.formats import TEXT_FORMATS, detect_format, locate, read_split
from slotfill.data.readers import StrictBioError
from slotfill.data.stats import find_splits
from slotfill.errors import DataError
from slotfill.text import bio
from slotfill.text.tokenise import token_texts

EXAMPLES_SHOWN = 3


@dataclass(frozen=True)
class Problem:
    # data | bio | tokenisation | misaligned | overlap | overlapping_spans | span_punctuation | empty |
    # intent | unseen_label | leak | requested_slot | few_examples
    kind: str
    where: str  # FILE:LINE, or FILE: sentence N where the format has no one line per sentence
    message: str


def split_differently(token: str) -> list[str] | None:
    """How the runtime tokeniser splits a pre-tokenised token, or None when it keeps it whole."""
    pieces = token_texts(token)
    return None if pieces == [token] else pieces


def tokenisation_problems(examples: Sequence[Example], path: Path, fmt: str) -> list[Problem]:
    """Training tokens that the tokeniser would split at prediction time ("lo-fi" -> lo - fi): the
    model learns a word it will never see. Raw-text formats are tokenised by slotfill: none."""
    if fmt in TEXT_FORMATS:
        return []
    problems = []
    for index, example in enumerate(examples):
        for token, tag in zip(example.tokens, example.tags):
            pieces = split_differently(token)
            if pieces is not None:
                where = _place(example, path, fmt, index)
                shown = " ".join(repr(p) for p in pieces)
                problems.append(Problem("tokenisation", where, f"{token!r} ({tag}) becomes {shown} when typed"))
    return problems


def tokenisation_warning(problems: Sequence[Problem], path: Path) -> str | None:
    """The one warning training gives about tokenisation problems, or None."""
    if not problems:
        return None
    shown = "; ".join(f"{p.where}: {p.message}" for p in problems[:EXAMPLES_SHOWN])
    return (
        f"{path}: {len(problems)} training tokens would be split differently by the tokeniser at prediction "
        f"time ({shown}); annotate raw text with character spans, or see `slotfill data validate {path}`"
    )


def span_problems(path: Path, fmt: str) -> list[Problem]:
    """Every span problem of a split (off token boundaries, sharing a token, overlapping another,
    punctuation at its edge) and every record without tokens, as training reads them by default."""
    return _read(path, fmt, strict_bio=False)[1]


# the kind of problem validate reports for each kind of span problem (slotfill.data.spans.SpanProblem)
SPAN_KINDS = {
    "boundaries": "misaligned",
    "overlap": "overlap",
    "overlapping": "overlapping_spans",
    "punctuation": "span_punctuation",
    "empty": "empty",
}


def _read(path: Path, fmt: str, strict_bio: bool) -> tuple[list[Example], list[Problem]]:
    """A split's examples, every sentence or record that could not be read (an error: training stops
    at it) and every span problem, handled as training handles it by default (SpanPolicy())."""
    errors: list[DataError] = []
    found: list[SpanProblem] = []
    examples = read_split(path, fmt, strict_bio=strict_bio, errors=errors, found=found)
    if not examples and not errors:
        raise DataError(f"{path}: no sentences (empty split)")
    problems = [_problem(error, path) for error in errors]
    return examples, problems + [Problem(SPAN_KINDS[p.reason], p.where, p.message()) for p in found]


def _problem(error: DataError, path: Path) -> Problem:
    """A read error as a problem: its place (the message's FILE:LINE) and what is wrong."""
    message = str(error)
    head, _, rest = message.removeprefix(str(path)).partition(": ")
    where, message = (f"{path}{head}", rest) if message.startswith(str(path)) and rest else (str(path), message)
    if isinstance(error, StrictBioError):
        return Problem("bio", where, "I- tag without B- of the same slot (read as B-)")
    return Problem("data", where, message + " (an error: training stops at it)")


def _split_problems(examples: Sequence[Example], path: Path, fmt: str) -> list[Problem]:
    problems = tokenisation_problems(examples, path, fmt)
    with_intent = sum(e.intent is not None for e in examples)
    for index, example in enumerate(examples):
        where = _place(example, path, fmt, index)
        if 0 < with_intent < len(examples) and example.intent is None:
            problems.append(Problem("intent", where, "no intent, where other sentences have one"))
    return problems


def _place(example: Example, path: Path, fmt: str, index: int) -> str:
    """Where an example is: the line it was read from, else its place among the split's sentences."""
    return example.where if example.where is not None else locate(path, fmt, index)


@dataclass(frozen=True)
class OutOfScope:
    """What validate needs of a config's out_of_scope section (slotfill.config.OutOfScopeConfig)."""

    intent: str = OUT_OF_SCOPE_LABEL  # the label of out-of-scope examples: not an intent of the data


def validate(path: Path, fmt: str = "auto", out_of_scope: OutOfScope = OutOfScope()) -> list[Problem]:
    """Every problem of the split or dataset at `path`, in one pass: a malformed sentence or record is
    one problem and is left out of the rest (an unreadable file still raises DataError).
    `out_of_scope`: the label of out-of-scope examples and what fitting a threshold needs."""
    splits = find_splits(Path(path))
    formats = {name: detect_format(where) if fmt == "auto" else fmt for name, where in splits.items()}
    problems: list[Problem] = []
    read = {}
    for name, where in splits.items():
        read[name], found = _read(where, formats[name], strict_bio=True)  # strictly: a clean split is read once
        problems += found
        if any(p.kind == "bio" for p in found):  # repaired: such an I- begins a slot
            read[name] = _read(where, formats[name], strict_bio=False)[0]
        problems += _split_problems(read[name], where, formats[name])
    if "train" in read:
        for name in [n for n in read if n != "train"]:  # in split order
            problems += _against_train(read["train"], read[name], splits[name], formats[name], out_of_scope)
    return problems + _context_problems(read, splits) + _calibration_problems(read, splits, out_of_scope)


def _context_problems(read: dict[str, list[Example]], splits: dict[str, Path]) -> list[Problem]:
    """Requested slots (a turn's dialogue context) that name no slot of the data (of train, where
    there is one): a typo, or a slot the data does not annotate (what its answers are taught to be)."""
    known_in = read.get("train") or [e for examples in read.values() for e in examples]
    known = sorted({span.label for e in known_in for span in bio.spans(e.tags)})
    problems = []
    for name, examples in read.items():
        requested = dict.fromkeys(slot for e in examples for slot in e.context.requested_slots)
        for slot in (s for s in requested if s not in known):
            first = next(e for e in examples if slot in e.context.requested_slots)
            where = first.where or str(splits[name])
            problems.append(
                Problem(
                    "requested_slot",
                    where,
                    f"requested slot {slot!r} is no slot of the data (its slots: {', '.join(known)}): a model reads "
                    "it as a context of its own, and answers to it as no slot",
                )
            )
    return problems


# fewer training examples, and a model's confidence in an intent is too unsure for one threshold
# fitted on dev to serve it: its utterances are rejected more often than others
MIN_INTENT_EXAMPLES = 10


def _calibration_problems(
    read: dict[str, list[Example]], splits: dict[str, Path], out_of_scope: OutOfScope
) -> list[Problem]:
    """Intents with too few training examples for one fitted threshold to serve them (a dev split
    too small to fit it is training's one-line error: it depends on the config's keep)."""
    problems = []
    counts: dict[str, int] = {}
    for example in read.get("train", []):
        if example.intent is not None and example.intent != out_of_scope.intent:
            counts[example.intent] = counts.get(example.intent, 0) + 1
    for intent, count in sorted(counts.items()):
        if count < MIN_INTENT_EXAMPLES:
            problems.append(
                Problem(
                    "few_examples", str(splits["train"]),
                    f"intent {intent!r} has {count} examples: too few for its confidence to meet the out-of-scope "
                    f"threshold reliably (at least {MIN_INTENT_EXAMPLES})",
                )
            )  # fmt: skip
    return problems


def _against_train(
    train: Sequence[Example], examples: Sequence[Example], path: Path, fmt: str, out_of_scope: OutOfScope
) -> list[Problem]:
    """Labels of a dev or test split that train never shows (out-of-scope examples are none),
    and its sentences that train has."""
    tags = {tag for e in train for tag in e.tags}
    intents = {e.intent for e in train}
    seen = {(e.tokens, e.context) for e in train}  # "13" after "how many?" is not "13" after "what time?"
    problems = []
    for index, example in enumerate(examples):
        where = _place(example, path, fmt, index)
        missing = sorted({t for t in example.tags if t not in tags})
        if missing:
            problems.append(Problem("unseen_label", where, f"tags never in train: {', '.join(missing)}"))
        if example.intent is not None and example.intent not in intents and example.intent != out_of_scope.intent:
            problems.append(Problem("unseen_label", where, f"intent never in train: {example.intent}"))
        if (example.tokens, example.context) in seen:
            problems.append(Problem("leak", where, "the same sentence is in train"))
    return problems


def summary(problems: Sequence[Problem]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for problem in problems:
        counts[problem.kind] = counts.get(problem.kind, 0) + 1
    return {"problems": len(problems), "by_kind": counts, "list": [asdict(p) for p in problems]}
