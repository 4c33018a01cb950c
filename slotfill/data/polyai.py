"""PolyAI's span-extraction JSON (`polyai`): the format of the DSTC8 and restaurant-booking sets of
PolyAI-LDN/task-specific-datasets (Coope et al. 2020, "Span-ConveRT"). A file is a JSON list of
turns:

    [{"userInput": {"text": "13"}, "context": {"requestedSlots": ["people"]},
      "labels": [{"slot": "people", "valueSpan": {"endIndex": 2}}]}, ...]

A turn without `labels` has no slot; a `valueSpan` without `startIndex` starts at 0 (the way
protobuf's JSON leaves out a zero). The requested slots become the turn's context
(slotfill.data.context); the format has no intents. Read as raw text with character spans, tokenised
by slotfill (slotfill.data.spans).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from slotfill.data.context import requested_context
from slotfill.data.example import Example
from slotfill.data.spans import AnnotatedText, Entry, TextData, check_label, json_document
from slotfill.data.writers import text_and_spans
from slotfill.errors import DataError
from slotfill.files import atomic_write_text


def read_polyai(path: Path, source: str) -> TextData:
    """The turns of a PolyAI span-extraction file; DataError (one line, naming the file and the
    turn's index) for anything that is not such a file."""
    turns = json_document(path, source, "a PolyAI span-extraction file")
    if not isinstance(turns, list):
        raise DataError(f"{path}: a PolyAI span-extraction file is a JSON list of turns with 'userInput'")
    return TextData([_turn(turn, f"{path}: turn {index}") for index, turn in enumerate(turns)])


def _turn(turn: Any, where: str) -> AnnotatedText:
    user = turn.get("userInput") if isinstance(turn, dict) else None
    if not isinstance(user, dict) or not isinstance(user.get("text"), str):
        raise DataError(f"{where}: expected an object with 'userInput': {{'text': ...}}")
    context = turn.get("context") or {}
    if not isinstance(context, dict):
        raise DataError(f"{where}: 'context' must be an object")
    labels = turn.get("labels") or []
    if not isinstance(labels, list):
        raise DataError(f"{where}: 'labels' must be a list of {{slot, valueSpan}}")
    spans = []
    for number, label in enumerate(labels):
        span = label.get("valueSpan") if isinstance(label, dict) else None
        if not isinstance(span, dict):
            raise DataError(f"{where}: labels[{number}] must have a 'slot' and a 'valueSpan'")
        start, end = span.get("startIndex", 0), span.get("endIndex")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or isinstance(end, bool):
            raise DataError(f"{where}: labels[{number}].valueSpan needs an integer 'endIndex' (and 'startIndex')")
        text = user["text"]
        if not 0 <= start < end <= len(text):
            raise DataError(
                f"{where}: labels[{number}].valueSpan {start}-{end} lies outside its text ({len(text)} characters)"
            )
        spans.append((start, end, check_label(label.get("slot"), f"{where}: labels[{number}]")))
    requested = requested_context(context.get("requestedSlots"), where)
    return AnnotatedText(user["text"], spans, None, where, requested)


def write_polyai(examples: Sequence[Example], path: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    """The examples as a PolyAI span-extraction file, whole or not at all (their intents are not
    written: the format has none)."""
    turns = []
    for example in examples:
        text, spans = text_and_spans(example)
        turn: dict[str, Any] = {"userInput": {"text": text}}
        if example.context:
            turn["context"] = {"requestedSlots": list(example.context.requested_slots)}
        if spans:
            turn["labels"] = [
                {"slot": label, "valueSpan": {"startIndex": start, "endIndex": end}} for start, end, label in spans
            ]
        turns.append(turn)
    atomic_write_text(path, json.dumps(turns, ensure_ascii=False, indent=1) + "\n")
