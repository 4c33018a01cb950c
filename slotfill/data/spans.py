"""Readers of raw text annotated with character spans: slotfill's own JSON lines, Rasa NLU YAML,
and the Snips NLU JSON dataset (PolyAI's format: slotfill.data.polyai). Each text is tokenised by
slotfill's own tokeniser, so training sees exactly the tokens prediction will; a span that does not
fit the tokens (off their boundaries, overlapping another, punctuation at its edge) is handled by
slotfill.data.alignment, which reports every one, never silently.

- ``spans`` (JSON lines): ``{"text": "turn on the kitchen lights", "intent": "turn_on",
  "slots": [{"start": 12, "end": 19, "slot": "room"}]}`` — the shape `slotfill predict` writes.
- ``rasa``: ``nlu:`` → ``- intent: X`` → ``examples: |`` with ``[Taipei](toloc.city_name)``,
  ``[Taipei](city:canonical)`` or ``[Taipei]{"entity": "city", "role": "toloc"}`` (label
  ``toloc.city``); ``- synonym:`` and ``- lookup:`` entries become lookup lists (gazetteer entries).
- ``snips``: ``intents`` → ``utterances`` → ``data`` chunks (``text``, ``slot_name``, ``entity``);
  ``entities`` with ``data`` values and synonyms become lookup lists.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from slotfill.data.context import NO_CONTEXT, Context, context_from_json
from slotfill.errors import DataError

Entry = tuple[str, ...]  # a list entry: its value, then its aliases (lookups, synonyms, gazetteer lines)


@dataclass
class AnnotatedText:
    """One utterance as people annotate it: the text, its slots as character spans, its intent."""

    text: str
    spans: list[tuple[int, int, str]]  # (start, end, label), end exclusive
    intent: str | None
    where: str  # file:line (or file: JSON path), for errors
    context: Context = NO_CONTEXT  # what the system asked for before this turn (slotfill.data.context)


@dataclass
class TextData:
    utterances: Iterable[AnnotatedText]  # a list, or (the spans format) read as it is iterated
    lookups: dict[str, list[Entry]] = field(default_factory=dict)  # Rasa lookups and synonyms, Snips entities
    regexes: dict[str, list[str]] = field(default_factory=dict)  # Rasa regex entries: name -> its expressions


T = TypeVar("T")


def collected(errors: list[DataError] | None, build: Callable[..., T], *args: Any) -> T | None:
    """`build(*args)`, or where it raises DataError and `errors` is a list, None with the error
    appended to it: how `data validate` reads past a bad record to list every one (errors None: raised)."""
    try:
        return build(*args)
    except DataError as error:
        kept_or_raised(errors, error)
        return None


def kept_or_raised(errors: list[DataError] | None, error: DataError) -> None:
    """Append `error` to `errors`, or raise it where there is no list."""
    if errors is None:
        raise error
    errors.append(error)


def check_label(label: object, where: str) -> str:
    if not isinstance(label, str) or not label.strip() or any(c.isspace() for c in label):
        raise DataError(f"{where}: slot label {label!r} must be a non-empty string without spaces")
    return label


# --- spans: JSON lines of raw text -----------------------------------------------------------------


def json_lines(path: Path, lines: Iterable[str], errors: list[DataError] | None = None) -> Iterator[tuple[str, Any]]:
    """(`FILE:LINE`, the parsed value) of each non-blank line; bad JSON raises DataError naming the
    line (with `errors`, the error is appended to it and the line skipped)."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            where = f"{path}:{number}"
            value = collected(errors, _json_value, where, line)
            if value is not None:
                yield where, value


def _json_value(where: str, line: str) -> Any:
    try:
        return json.loads(line)
    except json.JSONDecodeError as error:
        raise DataError(f"{where}: bad JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise DataError(f"{where}: JSON nested too deeply to be an annotated utterance") from None


def read_spans(path: Path, lines: Iterable[str], errors: list[DataError] | None = None) -> TextData:
    """The utterances of a JSON-lines file, read as they are iterated; with `errors`, a bad line is
    appended to it and skipped (slotfill.data.validate lists them all)."""
    records = json_lines(path, lines, errors)
    return TextData(item for where, record in records if (item := collected(errors, _span_record, where, record)))


def _span_record(where: str, record: Any) -> AnnotatedText | None:
    """One JSON-lines record as an annotated text (None: an annotation session's skipped utterance)."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str):
        raise DataError(f"{where}: expected a JSON object with a 'text' string")
    annotation = record.get("annotation")
    if isinstance(annotation, dict) and annotation.get("decision") == "skipped":
        return None  # an annotation session's skipped utterance (slotfill.annotation.session): not data
    intent = record.get("intent")
    if intent is not None and not (isinstance(intent, str) and intent.strip()):
        raise DataError(f"{where}: 'intent' must be a non-empty string")
    slots = record.get("slots", [])
    if not isinstance(slots, list):
        raise DataError(f"{where}: 'slots' must be a list of {{start, end, slot}}")
    spans = []
    for index, slot in enumerate(slots):
        if not isinstance(slot, dict) or not all(isinstance(slot.get(k), int) for k in ("start", "end")):
            raise DataError(f"{where}: slots[{index}] must have integer 'start' and 'end' and a 'slot' label")
        spans.append((slot["start"], slot["end"], check_label(slot.get("slot"), f"{where}: slots[{index}]")))
    return AnnotatedText(record["text"], spans, intent, where, context_from_json(record.get("context"), where))


# --- Rasa NLU YAML -----------------------------------------------------------------------------------

_RASA_ENTITY = re.compile(r"\[(?P<text>[^\]]*)\](?:\((?P<short>[^)]*)\)|(?P<json>\{[^}]*\}))")


def _rasa_label(match: re.Match[str], where: str) -> str:
    if match.group("short") is not None:
        entity = match.group("short").split(":", 1)[0]  # [gastro pub](cuisine:gastropub): entity cuisine
        return check_label(entity.strip(), where)
    try:
        spec = json.loads(match.group("json"))
    except json.JSONDecodeError:
        raise DataError(f"{where}: bad entity annotation {match.group(0)!r}") from None
    if not isinstance(spec, dict) or "entity" not in spec:
        raise DataError(f"{where}: entity annotation {match.group(0)!r} has no 'entity'")
    entity = check_label(spec["entity"], where)
    role = spec.get("role")
    return f"{check_label(role, where)}.{entity}" if role is not None else entity


def parse_rasa_example(line: str, intent: str | None, where: str) -> AnnotatedText:
    """`book a flight to [Taipei](toloc.city_name)` -> the plain text and its spans."""
    text, spans, at = [], [], 0
    for match in _RASA_ENTITY.finditer(line):
        text.append(line[at : match.start()])
        start = sum(len(piece) for piece in text)
        text.append(match.group("text"))
        spans.append((start, start + len(match.group("text")), _rasa_label(match, where)))
        at = match.end()
    text.append(line[at:])
    plain = "".join(text)
    if re.search(r"\[[^\]]*\]", plain):  # brackets left over: an annotation without (label) or {json}
        raise DataError(
            f'{where}: malformed entity annotation in {line!r} (expected [text](label) or [text]{{"entity": ...}})'
        )
    return AnnotatedText(plain, spans, intent, where)


def _rasa_examples(node: yaml.Node, path: Path) -> Iterator[tuple[str, str]]:
    """(example line, file:line) of a block scalar `examples: |` (its lines start one after the key)."""
    first = node.start_mark.line + 1 + (1 if getattr(node, "style", None) in ("|", ">") else 0)
    for offset, raw in enumerate(str(node.value).splitlines()):
        line = raw.strip()
        if line.startswith("- "):
            line = line[2:].strip()
        if line:
            yield line, f"{path}:{first + offset}"


YAML_MAX_DEPTH = 32  # a Rasa NLU file nests a handful of levels


def _compose_plain_yaml(path: Path, source: str) -> yaml.Node | None:
    """The YAML node tree of a data file, refusing what data never needs and a hostile file uses:
    aliases (`*name`, which can multiply a small file into gigabytes of examples) and deep nesting."""
    try:
        depth = 0
        for event in yaml.parse(source):
            if isinstance(event, yaml.AliasEvent):
                raise DataError(
                    f"{path}:{event.start_mark.line + 1}: YAML aliases (*{event.anchor}) are not read in data files"
                )
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > YAML_MAX_DEPTH:
                    raise DataError(
                        f"{path}:{event.start_mark.line + 1}: YAML nested more than {YAML_MAX_DEPTH} levels"
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.compose(source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise DataError(
            f"{path}:{mark.line + 1 if mark else 1}: not valid YAML ({getattr(error, 'problem', error)})"
        ) from None


def _text_of(node: yaml.Node, path: Path, what: str) -> str:
    """A plain, non-empty YAML string (not a list, a mapping, a null or a tagged object)."""
    if not (isinstance(node, yaml.ScalarNode) and node.tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:int")):
        raise DataError(f"{path}:{node.start_mark.line + 1}: {what} must be a plain string")
    if not str(node.value).strip():
        raise DataError(f"{path}:{node.start_mark.line + 1}: {what} is empty")
    return str(node.value)


def _entry_keys(item: yaml.MappingNode, path: Path) -> dict[str, yaml.Node]:
    keys: dict[str, yaml.Node] = {}
    for key, value in item.value:
        name = _text_of(key, path, "a key")
        if name in keys:
            raise DataError(f"{path}:{key.start_mark.line + 1}: the key {name!r} appears twice in this entry")
        keys[name] = value
    return keys


def read_rasa(path: Path, source: str) -> TextData:
    root = _compose_plain_yaml(path, source)
    nlu = _mapping_value(root, "nlu")
    if not isinstance(nlu, yaml.SequenceNode):
        raise DataError(f"{path}: a Rasa NLU file has an 'nlu:' list")
    data = TextData([])
    for item in nlu.value:
        if not isinstance(item, yaml.MappingNode):
            raise DataError(f"{path}:{item.start_mark.line + 1}: expected '- intent: ...' with 'examples: |'")
        keys = _entry_keys(item, path)
        examples = keys.get("examples")
        if not isinstance(examples, yaml.ScalarNode):
            raise DataError(f"{path}:{item.start_mark.line + 1}: expected 'examples: |' under this entry")
        lines = list(_rasa_examples(examples, path))
        if "intent" in keys:
            intent = _text_of(keys["intent"], path, "the intent")
            data.utterances += [parse_rasa_example(line, intent, where) for line, where in lines]
        elif "lookup" in keys:
            name = _text_of(keys["lookup"], path, "the lookup's name")
            data.lookups.setdefault(name, []).extend((line,) for line, _ in lines)
        elif "synonym" in keys:
            canonical = _text_of(keys["synonym"], path, "the synonym")
            data.lookups.setdefault(canonical, []).append((canonical, *(line for line, _ in lines)))
        elif "regex" in keys:  # read as a pattern feature (slotfill.features.patterns)
            name = _text_of(keys["regex"], path, "the regex's name")
            data.regexes.setdefault(name, []).extend(line for line, _ in lines)
        # other entries are not utterances: nothing to read
    return data


def _mapping_value(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    return next((value for k, value in node.value if isinstance(k, yaml.ScalarNode) and k.value == key), None)


# --- the Snips NLU dataset ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)  # other keys of the Snips format are ignored, types are not


class _SnipsChunk(_Strict):
    text: str
    slot_name: str | None = None
    entity: str | None = None


class _SnipsUtterance(_Strict):
    data: list[_SnipsChunk]


class _SnipsIntent(_Strict):
    utterances: list[_SnipsUtterance]


class _SnipsValue(_Strict):
    value: str
    synonyms: list[str] = []


class _SnipsEntity(_Strict):
    data: list[_SnipsValue] = []  # built-in entities ("snips/datetime": {}) have none


class _SnipsDataset(_Strict):
    intents: dict[str, _SnipsIntent]
    entities: dict[str, _SnipsEntity] = {}


def json_document(path: Path, source: str, what: str) -> Any:
    """A data file that is one JSON document (a Snips dataset, a PolyAI file); DataError naming the
    line of bad JSON, or a document nested too deeply to be `what`."""
    try:
        return json.loads(source)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}:{error.lineno}: bad JSON ({error.msg} at column {error.colno})") from None
    except RecursionError:
        raise DataError(f"{path}: JSON nested too deeply to be {what}") from None


def read_snips(path: Path, source: str) -> TextData:
    raw = json_document(path, source, "a Snips dataset")
    if not isinstance(raw, dict) or not isinstance(raw.get("intents"), dict):
        raise DataError(f"{path}: a Snips dataset is a JSON object with 'intents' (and 'entities')")
    try:
        dataset = _SnipsDataset.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) if not isinstance(part, int) else f"[{part}]" for part in first["loc"])
        raise DataError(f"{path}: {where.replace('.[', '[')}: {first['msg']}") from None
    data = TextData([])
    for intent, body in dataset.intents.items():
        for index, utterance in enumerate(body.utterances):
            data.utterances.append(_snips_utterance(utterance, intent, f"{path}: intents.{intent}.utterances[{index}]"))
    for name, entity in dataset.entities.items():
        if entity.data:
            data.lookups[name] = [(value.value, *value.synonyms) for value in entity.data]
    return data


def _snips_utterance(utterance: _SnipsUtterance, intent: str, where: str) -> AnnotatedText:
    text, spans = "", []
    for index, chunk in enumerate(utterance.data):
        if chunk.slot_name is not None:
            label = check_label(chunk.slot_name, f"{where}.data[{index}]")
            spans.append((len(text), len(text) + len(chunk.text), label))
        text += chunk.text
    return AnnotatedText(text, spans, intent, where)
