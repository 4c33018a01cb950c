"""Every data format, one entry each (FORMATS): how a split in it is read and written, the file
names it is recognised by, and what kind of file it is. Adding a format is an entry here, with its
reader (slotfill.data.readers) and writer (slotfill.data.writers). choices.DATA_FORMATS, what the
config and the CLI offer, names the same formats in the same order (tests/data/test_formats.py
holds it).

A format is recognised from the path: a directory is ATIS; otherwise by the file's suffix, and
for the JSON ones by their first record too (a Snips dataset is one object with "intents", a PolyAI
file a list of turns with "userInput"; a `spans` line has a "text", a `jsonl` line has "tokens");
anything else is CoNLL columns.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from slotfill.choices import DATA_FORMATS
from slotfill.data import readers, writers
from slotfill.data.alignment import SpanPolicy, SpanProblem
from slotfill.data.example import Example
from slotfill.data.polyai import write_polyai
from slotfill.data.readers import Reading, RepairCount, read_text_data
from slotfill.data.spans import Entry
from slotfill.errors import DataError
from slotfill.files import no_such_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Format:
    read: Callable[[Path, Reading], Iterator[Example]]
    write: Callable[[Sequence[Example], Path, Mapping[str, Sequence[Entry]]], None]
    suffixes: tuple[str, ...] = ()  # file names it is written under (and, JSON ones by content, recognised by)
    directory: bool = False  # a split is a directory of files (ATIS), not one file
    text: bool = False  # raw text with character spans: slotfill tokenises it
    lookups: bool = False  # it carries named lists (Rasa lookups and synonyms, Snips entities)
    line_a_sentence: bool = False  # a sentence is one line of its file: its place is that line
    context: bool = False  # it holds a turn's dialogue context (requested slots: slotfill.data.context)
    intents: bool = True  # it holds intents


FORMATS: dict[str, Format] = {
    "atis": Format(readers.read_atis, writers.write_atis, directory=True, line_a_sentence=True),
    "conll": Format(readers.read_conll, writers.write_conll),  # any file no other format names
    "jsonl": Format(readers.read_jsonl, writers.write_jsonl, (".jsonl",), line_a_sentence=True, context=True),
    "spans": Format(
        readers.text_reader("spans"), writers.write_spans, (".jsonl", ".ndjson"), text=True, line_a_sentence=True,
        context=True,
    ),
    "rasa": Format(readers.text_reader("rasa"), writers.write_rasa, (".yml", ".yaml"), text=True, lookups=True),
    "snips": Format(readers.text_reader("snips"), writers.write_snips, (".json",), text=True, lookups=True),
    # PolyAI's span-extraction JSON (slotfill.data.polyai): a list of turns with their requested slots
    "polyai": Format(readers.text_reader("polyai"), write_polyai, (".json",), text=True, context=True, intents=False),
}  # fmt: skip
TEXT_FORMATS = tuple(name for name, entry in FORMATS.items() if entry.text)
# the format a new file is written in, by its suffix (the first format to name it); CoNLL for any other
_NAMED = {suffix: name for name in ("spans", "snips", "rasa") for suffix in FORMATS[name].suffixes}


def format_of_name(path: Path) -> str:
    """The format a new split named `path` is written in: no suffix, an ATIS directory; else by its suffix."""
    return _NAMED.get(path.suffix.lower(), "conll") if path.suffix else "atis"


def detect_format(path: Path) -> str:
    """The format a path is in: a directory is an ATIS split; a JSON file by its first record
    (Snips when it is one object with "intents"; `spans` when its first record has a "text",
    `jsonl` otherwise); other files by their suffix, CoNLL columns for any other."""
    if path.is_dir():
        return "atis"
    named = _NAMED.get(path.suffix.lower(), "conll")
    if named not in ("snips", "spans"):
        return named
    head = _head(path)
    if named == "snips" and head.lstrip().startswith("[") and '"userInput"' in head:
        return "polyai"
    if named == "snips" and head.lstrip().startswith("{") and '"intents"' in head and "\n{" not in head.strip():
        return "snips"
    record = _first_record(head)
    if record is None:
        return "jsonl"  # no line parses: the reader names each bad one
    return "spans" if isinstance(record, dict) and "text" in record and "tokens" not in record else "jsonl"


def _first_record(head: str, tries: int = 20) -> object | None:
    """The first JSON object among the first non-blank lines of `head` that parses (a broken first
    line does not decide the format of every good line after it)."""
    lines = (line for line in head.splitlines() if line.strip())
    for line in itertools.islice(lines, tries):
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, RecursionError):
            continue
        if isinstance(record, dict):
            return record
    return None


def _head(path: Path, size: int = 1 << 16) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(size).decode("utf-8", errors="replace").removeprefix("\ufeff")
    except OSError:
        return ""


def read_split(
    path: str | Path,
    fmt: str = "auto",
    *,
    strict_bio: bool = False,
    policy: SpanPolicy = SpanPolicy(),
    errors: list[DataError] | None = None,
    found: list[SpanProblem] | None = None,
) -> list[Example]:
    """Read one split (train, dev or test). Raises DataError on anything malformed; with `errors`, a
    malformed sentence or record is appended to it and left out instead, so that every one is found
    in one pass (`data validate`), and the split may come back empty. A span problem (off token
    boundaries, overlapping another, punctuation at its edge) is handled by `policy`
    (slotfill.data.spans.SpanPolicy) and counted in one warning, or appended to `found`."""
    examples = list(iter_split(path, fmt, strict_bio=strict_bio, policy=policy, errors=errors, found=found))
    if not examples and errors is None:
        raise DataError(f"{path}: no sentences (empty split)")
    return examples


def iter_split(
    path: str | Path,
    fmt: str = "auto",
    *,
    strict_bio: bool = False,
    policy: SpanPolicy = SpanPolicy(),
    errors: list[DataError] | None = None,
    found: list[SpanProblem] | None = None,
) -> Iterator[Example]:
    """read_split's examples one at a time (the line formats are read a line at a time). With
    `found`, the span problems are appended to it instead of warned about."""
    path = Path(path)
    if not path.exists():
        raise DataError(no_such_path(path))
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise DataError(f"{path}: unknown data format {fmt!r} (expected one of auto, {', '.join(DATA_FORMATS)})")
    entry = FORMATS[fmt]
    if entry.directory != path.is_dir():
        expected = (
            "an ATIS split is a directory with seq.in and seq.out"
            if entry.directory
            else f"is a directory, expected a {fmt} file"
        )
        raise DataError(f"{path}: {expected}")
    repairs = RepairCount(path / "seq.out" if entry.directory else path, strict_bio, errors, policy)
    yield from entry.read(path, Reading(repairs, errors))
    if found is not None:
        found += repairs.found
    repairs.report(warn=found is None)


def read_named(path: str | Path, fmt: str = "auto") -> tuple[dict[str, list[Entry]], dict[str, list[str]]]:
    """What a data file names beside its utterances: its lookup lists (Rasa lookups and synonyms,
    Snips entities) and its regular expressions (Rasa `regex:` entries), each by name."""
    path = Path(path)
    fmt = detect_format(path) if fmt == "auto" else fmt
    if not FORMATS[fmt].lookups or not path.is_file():
        return {}, {}
    data = read_text_data(path, fmt)
    return data.lookups, data.regexes


def read_lookups(path: str | Path, fmt: str = "auto") -> dict[str, list[Entry]]:
    """The lookup lists a data file carries (Rasa lookups and synonyms, Snips entities), by name."""
    return read_named(path, fmt)[0]


def write_split(
    examples: Sequence[Example], path: Path, fmt: str, lookups: Mapping[str, Sequence[Entry]] | None = None
) -> None:
    """Write one split in `fmt`, whole or not at all; `lookups` (named lists) go into the formats
    that hold them (rasa, snips)."""
    path = Path(path)
    if fmt not in FORMATS:
        raise DataError(f"{path}: cannot write format {fmt!r}")
    entry = FORMATS[fmt]
    for held, what, count in (
        (entry.context, "a dialogue context (requested slots)", sum(1 for e in examples if e.context)),
        (entry.intents, "an intent", sum(1 for e in examples if e.intent is not None)),
    ):
        if count and not held:
            log.warning(
                "%s: %d sentences carry %s, which the %s format cannot hold: not written", path, count, what, fmt
            )
    if not entry.directory:
        path.parent.mkdir(parents=True, exist_ok=True)
    entry.write(examples, path, lookups or {})


def locate(path: Path, fmt: str, index: int) -> str:
    """Where the `index`-th sentence (0-based) of a split is, for people."""
    entry = FORMATS[fmt]
    if entry.directory:
        return f"{Path(path) / 'seq.in'}:{index + 1}"
    if entry.line_a_sentence:  # one record a line (blank lines would shift it)
        return f"{path}:{index + 1}"
    return f"{path}: sentence {index + 1}"
