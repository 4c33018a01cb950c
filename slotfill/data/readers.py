"""The readers of labelled utterances, one per format, with errors that name file and line
(slotfill.data.formats says which reads which format, and reads a split):

- ``atis``: a split directory with line-aligned ``seq.in`` (tokens), ``seq.out`` (BIO tags)
  and, optionally, ``label`` (intent);
- ``conll``: one ``token tag`` per line (first and last whitespace-separated columns), a blank
  line between sentences, an optional ``# intent = X`` line before a sentence;
- ``jsonl``: one ``{"tokens": [...], "tags": [...], "intent": "..."}`` object per line;
- ``spans``, ``rasa``, ``snips``: raw text with character spans (slotfill.data.spans), tokenised here.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from slotfill.data.alignment import POLICY_KEYS, SpanPolicy, SpanProblem, to_tokens
from slotfill.data.context import NO_CONTEXT, Context, context_from_json
from slotfill.data.example import Example, trim_span_punctuation
from slotfill.data.polyai import read_polyai
from slotfill.data.spans import TextData, collected, json_lines, kept_or_raised, read_rasa, read_snips, read_spans
from slotfill.errors import DataError
from slotfill.text import bio

log = logging.getLogger(__name__)


@dataclass
class Reading:
    """How one split is being read: its checks and repairs (`repairs`), what is done with each kind
    of span problem (`repairs.policy`), and where a bad sentence (`errors`) goes instead of raised."""

    repairs: RepairCount
    errors: list[DataError] | None = None


def read_text_data(path: Path, fmt: str, errors: list[DataError] | None = None) -> TextData:
    """A span-annotated file (spans, rasa or snips) as written, before tokenising (`errors`: see
    read_split; the JSON-lines spans format reads past a bad line, the others are one document)."""
    if fmt == "spans":
        return read_spans(path, _lines(path, errors), errors)
    source = "\n".join(_lines(path, errors))
    return {"rasa": read_rasa, "snips": read_snips, "polyai": read_polyai}[fmt](path, source)


def text_reader(fmt: str) -> Callable[[Path, Reading], Iterator[Example]]:
    """The reader of a raw-text format (spans, rasa, snips): its annotated texts, tokenised."""

    def read(path: Path, reading: Reading) -> Iterator[Example]:
        yield from _from_text(read_text_data(path, fmt, reading.errors), reading.repairs)

    return read


def _from_text(data: TextData, repairs: RepairCount) -> Iterator[Example]:
    """The examples of annotated texts; their span problems handled by the policy and counted."""
    for item in data.utterances:
        aligned = collected(repairs.errors, to_tokens, item, repairs.policy)
        if aligned is None:
            continue
        tokens, tags, problems = aligned
        repairs.found += problems
        if tokens:
            yield from repairs.example(tokens, tags, item.intent, item.where, item.text, context=item.context)


# what each policy does with a kind of span problem, as the warning says it
_DONE = {
    "boundaries": ("do not fall on token boundaries", {
        "expand": "expanded to the tokens they touch", "contract": "contracted to the tokens inside them",
    }),
    "overlap": ("then share a token with an earlier slot", {
        "expand": "given the tokens left to them (dropped where none is)",
        "contract": "given the tokens left to them (dropped where none is)",
    }),
    "overlapping": ("overlap another slot in the annotation itself", {"longer": "the longer of the two kept"}),
    "punctuation": ("have punctuation at their edge", {"trim": "trimmed"}),
    "empty": ("", {}),
}  # fmt: skip


def span_warning(found: Sequence[SpanProblem], sentences: int, policy: SpanPolicy) -> str:
    """The one warning about a split's span problems: how many of each kind, what was done (as
    `policy` says), three examples of each."""
    parts = []
    for reason, (what, done) in _DONE.items():
        these = [p for p in found if p.reason == reason]
        if not these:
            continue
        shown = "; ".join(f"{p.where}: {p.message()}" for p in these[:3])
        if reason == "empty":
            parts.append(f"{len(these)} records without any token left out ({shown})")
            continue
        key, choice = POLICY_KEYS[reason], policy.choice(reason)
        outcome = done.get(choice, "their sentences left out")
        parts.append(
            f"{len(these)} slot spans in {sentences} sentences {what}, {outcome} (data.{key}: {choice}): {shown}"
        )
    return "; ".join(parts) + "; `slotfill data validate` lists them all"


def _lines(path: Path, errors: list[DataError] | None = None) -> Iterator[str]:
    """The lines of a UTF-8 text file (a BOM and CRLF endings accepted), read one at a time: a
    large split is never held whole (`data stats` on 200 MB). A line that is not UTF-8 raises
    DataError; with `errors`, it is appended to it and the line read with U+FFFD in place of its
    bad bytes (so that `data validate` goes on, and an ATIS split's files stay line-aligned)."""
    try:
        handle = path.open("rb")
    except OSError as error:
        raise DataError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        for number, line in enumerate(handle, 1):
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                bad = DataError(
                    f"{path}:{number}: not UTF-8 (byte 0x{line[error.start]:02x} at column {error.start + 1})"
                )
                kept_or_raised(errors, bad)
                text = line.decode("utf-8", errors="replace")
            yield text.removesuffix("\n").removesuffix("\r")


class RepairCount:
    """The checks and repairs of one split's sentences, and what they found: how many I- tags were
    repaired (reported once after the split is read), every span problem (`found`, handled by
    `policy`), and (`errors`) where a bad sentence goes instead of raised (see read_split)."""

    def __init__(
        self,
        path: Path,
        strict_bio: bool,
        errors: list[DataError] | None = None,
        policy: SpanPolicy = SpanPolicy(),
    ) -> None:
        self.path, self.strict_bio, self.errors, self.policy = path, strict_bio, errors, policy
        self.count, self.sentences = 0, 0
        self.found: list[SpanProblem] = []

    def example(
        self,
        tokens: list[str],
        tags: list[str],
        intent: str | None,
        where: str,
        text: str | None = None,
        place: str | None = None,
        context: Context = NO_CONTEXT,
    ) -> Iterator[Example]:
        """The checked example (none where it is bad and `errors` collects); `where` is what its
        errors name, `place` the line it is on (default `where`; ATIS: its seq.in line)."""
        example = collected(self.errors, self._checked, tokens, tags, intent, where, text, place or where)
        if example is not None:
            self.sentences += 1
            yield example if not context else replace(example, context=context)

    def _checked(
        self, tokens: list[str], tags: list[str], intent: str | None, where: str, text: str | None, place: str
    ) -> Example:
        if len(tokens) != len(tags):
            raise DataError(f"{where}: {len(tokens)} tokens but {len(tags)} tags")
        for tag in tags:
            if not bio.is_bio_tag(tag):
                raise DataError(f"{where}: {tag!r} is not a BIO tag (O, B-x or I-x)")
        if intent is not None and (not isinstance(intent, str) or not intent.strip() or not intent.isprintable()):
            raise DataError(f"{where}: intent {intent!r} must be a non-empty string of printable characters")
        fixed, changed = bio.repair(tags)
        if changed and self.strict_bio:
            raise StrictBioError(f"{where}: I- tag without B- of the same slot (data.strict_bio is set)")
        self.count += changed
        trimmed, edges = trim_span_punctuation(tokens, fixed)
        for span, left in edges:
            problem = SpanProblem(
                place, span.label, span.start, span.end, " ".join(tokens[span.start : span.end]), "", "punctuation",
                kept=" ".join(tokens[left.start : left.end]) if left is not None else "",
            )  # fmt: skip
            self.policy.handle(problem)  # raised where the policy says error
            self.found.append(problem)
        if self.policy.span_punctuation == "trim":
            fixed = trimmed
        return Example(tuple(tokens), tuple(fixed), intent, text, place)

    def report(self, warn: bool) -> None:
        """Warn once about the split's repaired tags and (`warn`) its span problems."""
        if self.count:
            log.warning("%s: repaired %d I- tags that did not follow B- or I- of the same slot", self.path, self.count)
        if warn and self.found:
            log.warning("%s", span_warning(self.found, self.sentences, self.policy))


class StrictBioError(DataError):
    """An I- tag without its B- where data.strict_bio refuses it (validate reports it as "bio")."""


def _line_count(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _same_line_counts(inputs: Path, outputs: Path, labels: Path | None) -> None:
    """An ATIS split's files must have a line each per sentence (counted, not read into memory)."""
    count = _line_count(inputs)
    for other in (outputs, labels):
        if other is not None and _line_count(other) != count:
            raise DataError(f"{other}: {_line_count(other)} lines but {inputs.name} has {count}")


def read_atis(directory: Path, reading: Reading) -> Iterator[Example]:
    """An ATIS split: seq.in, seq.out and (optionally) label, line-aligned."""
    repairs = reading.repairs
    inputs, outputs, label_file = directory / "seq.in", directory / "seq.out", directory / "label"
    for required in (inputs, outputs):
        if not required.is_file():
            raise DataError(f"{required}: missing (an ATIS split needs seq.in and seq.out)")
    _same_line_counts(inputs, outputs, label_file if label_file.is_file() else None)
    errors = repairs.errors
    labels = _lines(label_file, errors) if label_file.is_file() else itertools.repeat(None)
    lines = zip(_lines(inputs, errors), _lines(outputs, errors), labels)
    for i, (token_line, tag_line, intent_line) in enumerate(lines):
        tokens, tags = token_line.split(), tag_line.split()
        if not tokens and not tags:
            log.warning("%s:%d: blank line skipped", inputs, i + 1)
            continue
        intent = intent_line.strip() if intent_line is not None else None
        if intent_line is not None and not intent:
            kept_or_raised(repairs.errors, DataError(f"{label_file}:{i + 1}: empty intent"))
            continue
        yield from repairs.example(tokens, tags, intent, f"{outputs}:{i + 1}", place=f"{inputs}:{i + 1}")


def read_conll(path: Path, reading: Reading) -> Iterator[Example]:
    """CoNLL columns: a token and a tag a line, sentences between blank lines, `# intent = X` before one."""
    repairs = reading.repairs
    tokens: list[str] = []
    tags: list[str] = []
    intent: str | None = None
    first_line, bad = 0, False  # bad: a line of this sentence was (errors collected: the sentence is left out)
    for number, line in enumerate(_lines(path, repairs.errors), 1):
        stripped = line.strip()
        if stripped.startswith("#") and " = " in stripped and not tokens:
            key, _, value = stripped[1:].partition(" = ")
            if key.strip() == "intent":
                intent = value.strip() or None
            continue
        if not stripped:
            if tokens and not bad:
                yield from repairs.example(tokens, tags, intent, f"{path}:{first_line}")
            tokens, tags, intent, bad = [], [], None, False
            continue
        columns = stripped.split()
        if len(columns) < 2:
            kept_or_raised(repairs.errors, DataError(f"{path}:{number}: expected a token and a tag, got {stripped!r}"))
            bad = True
        elif not bio.is_bio_tag(columns[-1]):
            kept_or_raised(
                repairs.errors, DataError(f"{path}:{number}: {columns[-1]!r} is not a BIO tag (O, B-x or I-x)")
            )
            bad = True
        if not tokens:
            first_line = number
        tokens.append(columns[0])
        tags.append(columns[-1])
    if tokens and not bad:
        yield from repairs.example(tokens, tags, intent, f"{path}:{first_line}")


def read_jsonl(path: Path, reading: Reading) -> Iterator[Example]:
    """JSON lines of {"tokens", "tags", "intent"}."""
    repairs = reading.repairs
    for where, record in json_lines(path, _lines(path, repairs.errors), repairs.errors):
        fields = collected(repairs.errors, _jsonl_record, where, record)
        if fields is None:
            continue
        tokens, tags, intent, context = fields
        if not tokens and not tags:
            repairs.found.append(SpanProblem(where, "", 0, 0, "", "", "empty"))
            continue
        yield from repairs.example(tokens, tags, intent, where, context=context)


def _jsonl_record(where: str, record: object) -> tuple[list[str], list[str], str | None, Context]:
    """The tokens, tags, intent and context of one {"tokens", "tags", "intent", "context"} record, checked."""
    if not isinstance(record, dict):
        raise DataError(f"{where}: expected a JSON object with tokens and tags")
    tokens, tags, intent = record.get("tokens"), record.get("tags"), record.get("intent")
    for key, value in (("tokens", tokens), ("tags", tags)):
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise DataError(f"{where}: {key!r} must be a list of non-empty strings")
    for position, token in enumerate(tokens, 1):
        if any(character.isspace() for character in token):
            raise DataError(f"{where}: token {position} ({token!r}) contains whitespace; split it into tokens")
    if intent is not None and not (isinstance(intent, str) and intent.strip()):
        raise DataError(f"{where}: 'intent' must be a non-empty string")
    return tokens, tags, intent, context_from_json(record.get("context"), where)
