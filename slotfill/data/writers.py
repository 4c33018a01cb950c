"""Writers for every data format slotfill reads, one per format, so that `slotfill data convert`
goes between any two (slotfill.data.formats says which writes which format).

Token formats (atis, conll, jsonl) write the tokens and tags as they are. Text formats (spans,
rasa, snips) write the tokens joined by single spaces, with each slot's character span; reading
them back tokenises that text, which gives the same tokens for any data whose tokens are what
slotfill's tokeniser makes (`slotfill data validate` reports the others). Files are written
whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from slotfill.data.example import Example
from slotfill.data.spans import Entry
from slotfill.errors import DataError
from slotfill.files import atomic_write_text, writing_dir
from slotfill.text import bio
from slotfill.text.tokenise import tokenise


def write_atis(examples: Sequence[Example], directory: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    """seq.in, seq.out and (where the examples have intents) label, written whole or not at all."""
    _write_atis(examples, directory)


def write_conll(examples: Sequence[Example], path: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    atomic_write_text(path, "".join(_conll(example) for example in examples))


def write_jsonl(examples: Sequence[Example], path: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    atomic_write_text(path, "".join(_jsonl(example) for example in examples))


def write_spans(examples: Sequence[Example], path: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    atomic_write_text(path, "".join(_spans(example) for example in examples))


def write_rasa(examples: Sequence[Example], path: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    """Rasa NLU YAML, with the lookups as lookup lists."""
    atomic_write_text(path, _rasa(examples, lookups))


def write_snips(examples: Sequence[Example], path: Path, lookups: Mapping[str, Sequence[Entry]]) -> None:
    """A Snips NLU dataset, with the lookups as entities."""
    atomic_write_text(path, _snips(examples, lookups))


def text_and_spans(example: Example) -> tuple[str, list[tuple[int, int, str]]]:
    """The example's raw text when it was read from one (else its tokens joined by spaces), and
    each slot as (start, end, label) in that text."""
    tokens = tokenise(example.text) if example.text is not None else []
    if [t.text for t in tokens] == list(example.tokens) and example.text is not None:
        text, offsets = example.text, [(t.start, t.end) for t in tokens]
    else:
        text, offsets, at = " ".join(example.tokens), [], 0
        for token in example.tokens:
            offsets.append((at, at + len(token)))
            at += len(token) + 1
    return text, [(offsets[s.start][0], offsets[s.end - 1][1], s.label) for s in bio.spans(example.tags)]


def _write_atis(examples: Sequence[Example], directory: Path) -> None:
    intents = [e.intent for e in examples]
    if any(i is None for i in intents) and not all(i is None for i in intents):
        missing = next(n for n, i in enumerate(intents, 1) if i is None)
        raise DataError(
            f"{directory}: sentence {missing} has no intent, others have: ATIS's label file needs one on every line"
        )
    with writing_dir(directory) as staged:
        (staged / "seq.in").write_text("".join(" ".join(e.tokens) + "\n" for e in examples), encoding="utf-8")
        (staged / "seq.out").write_text("".join(" ".join(e.tags) + "\n" for e in examples), encoding="utf-8")
        if intents and intents[0] is not None:
            (staged / "label").write_text("".join(f"{i}\n" for i in intents), encoding="utf-8")


def _conll(example: Example) -> str:
    head = f"# intent = {example.intent}\n" if example.intent is not None else ""
    return head + "".join(f"{token} {tag}\n" for token, tag in zip(example.tokens, example.tags)) + "\n"


def _jsonl(example: Example) -> str:
    record: dict = {"tokens": list(example.tokens), "tags": list(example.tags)}
    if example.intent is not None:
        record["intent"] = example.intent
    if example.context:
        record["context"] = example.context.to_json()
    return json.dumps(record, ensure_ascii=False) + "\n"


def _spans(example: Example) -> str:
    text, spans = text_and_spans(example)
    record: dict = {"text": text}
    if example.intent is not None:
        record["intent"] = example.intent
    record["slots"] = [{"start": start, "end": end, "slot": label} for start, end, label in spans]
    if example.context:
        record["context"] = example.context.to_json()
    return json.dumps(record, ensure_ascii=False) + "\n"


def _by_intent(examples: Sequence[Example], fmt: str) -> dict[str, list[Example]]:
    """The examples grouped by intent (a Snips dataset keys its utterances by intent: order within one intent is kept)."""
    grouped: dict[str, list[Example]] = {}
    for intent, run in _runs(examples, fmt):
        grouped.setdefault(intent, []).extend(run)
    return grouped


def _rasa_line(example: Example) -> str:
    text, spans = text_and_spans(example)
    if any(c in text for c in "[]"):
        raise DataError(f"{text!r}: a Rasa example cannot hold '[' or ']' outside an annotation")
    pieces, at = [], 0
    for start, end, label in spans:
        pieces += [text[at:start], f"[{text[start:end]}]({label})"]
        at = end
    return "".join(pieces) + text[at:]


class _Literal(str):
    """A string YAML writes as a literal block (`|`)."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _RasaDumper(yaml.SafeDumper):
    pass


_RasaDumper.add_representer(_Literal, _literal)


def _runs(examples: Sequence[Example], fmt: str) -> list[tuple[str, list[Example]]]:
    """Consecutive examples of one intent, in order: `- intent: X` may repeat in a Rasa file, so the
    sentence order survives a round trip."""
    runs: list[tuple[str, list[Example]]] = []
    for number, example in enumerate(examples, 1):
        if example.intent is None:
            raise DataError(f"sentence {number} has no intent: every {fmt} example belongs to one")
        if runs and runs[-1][0] == example.intent:
            runs[-1][1].append(example)
        else:
            runs.append((example.intent, [example]))
    return runs


def _rasa(examples: Sequence[Example], lookups: Mapping[str, Sequence[Entry]]) -> str:
    nlu: list[dict] = [
        {"intent": intent, "examples": _Literal("".join(f"- {_rasa_line(e)}\n" for e in group))}
        for intent, group in _runs(examples, "Rasa")
    ]
    for name, entries in lookups.items():
        nlu.append(
            {"lookup": name, "examples": _Literal("".join(f"- {form}\n" for entry in entries for form in entry))}
        )
    return yaml.dump(
        {"version": "3.1", "nlu": nlu}, Dumper=_RasaDumper, sort_keys=False, allow_unicode=True, width=10_000
    )


def _snips(examples: Sequence[Example], lookups: Mapping[str, Sequence[Entry]]) -> str:
    intents = {}
    labels: dict[str, None] = {}
    for intent, group in _by_intent(examples, "Snips").items():
        utterances = []
        for example in group:
            text, spans = text_and_spans(example)
            chunks, at = [], 0
            for start, end, label in spans:
                if start > at:
                    chunks.append({"text": text[at:start]})
                chunks.append({"text": text[start:end], "entity": label, "slot_name": label})
                labels.setdefault(label, None)
                at = end
            if at < len(text):
                chunks.append({"text": text[at:]})
            utterances.append({"data": chunks})
        intents[intent] = {"utterances": utterances}
    entities = {
        name: {
            "data": [{"value": entry[0], "synonyms": list(entry[1:])} for entry in lookups.get(name, [])],
            "use_synonyms": True,
            "automatically_extensible": True,
            "matching_strictness": 1.0,
        }
        for name in [*labels, *(n for n in lookups if n not in labels)]
    }
    return json.dumps({"language": "en", "intents": intents, "entities": entities}, ensure_ascii=False, indent=1) + "\n"
