"""Data files as a hostile probe wrote them: each is one line naming the file (exit 2 from the
CLI), never a traceback and never garbage read as data (issue 19)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.errors import DataError

runner = CliRunner()
UTTERANCE = {"data": [{"text": "to "}, {"text": "boston", "slot_name": "city", "entity": "city"}]}


def snips(**changes: object) -> str:
    dataset = {"intents": {"fly": {"utterances": [UTTERANCE]}}, "entities": {"city": {"data": [{"value": "boston"}]}}}
    dataset.update(changes)
    return json.dumps(dataset)


RASA_ALIAS_BOMB = (
    "x: &many\n"
    + "".join(f"  - a{i}\n" for i in range(50))
    + "nlu:\n"
    + "".join(f"- intent: i{i}\n  examples: *many\n" for i in range(200))
)

CASES = {
    "json nested 200k deep": ("train.jsonl", "[" * 200_000, "nested too deeply"),
    "snips nested 200k deep": ("train.json", '{"intents": ' + "[" * 200_000, "nested too deeply"),
    "yaml nested 50k deep": ("nlu.yml", "nlu: " + "[" * 50_000, "nested more than 32 levels"),
    "snips entities a list": ("train.json", snips(entities=[1, 2]), "entities: Input should be a valid dictionary"),
    "snips synonyms a number": (
        "train.json",
        snips(entities={"city": {"data": [{"value": "nyc", "synonyms": 5}]}}),
        "entities.city.data[0].synonyms: Input should be a valid list",
    ),
    "snips synonyms a string": (
        "train.json",
        snips(entities={"city": {"data": [{"value": "nyc", "synonyms": "nyc"}]}}),
        "synonyms: Input should be a valid list",
    ),
    "yaml complex key": (
        "nlu.yml",
        "nlu:\n- ? [a, b]\n  : x\n  examples: |\n    - hi\n",
        "a key must be a plain string",
    ),
    "yaml intent a list": (
        "nlu.yml",
        "nlu:\n- intent: [a, b]\n  examples: |\n    - hi\n",
        "the intent must be a plain string",
    ),
    "yaml intent an object": (
        "nlu.yml",
        "nlu:\n- intent: !!python/object/apply:os.system ['true']\n  examples: |\n    - hi\n",
        "the intent must be a plain string",
    ),
    "yaml intent empty": ("nlu.yml", "nlu:\n- intent:\n  examples: |\n    - hi\n", "the intent must be a plain string"),
    "yaml duplicate keys": (
        "nlu.yml",
        "nlu:\n- intent: a\n  intent: b\n  examples: |\n    - hi\n",
        "the key 'intent' appears twice",
    ),
    "yaml role a list": (
        "nlu.yml",
        'nlu:\n- intent: a\n  examples: |\n    - to [boston]{"entity": "city", "role": ["x"]}\n',
        "slot label ['x'] must be a non-empty string",
    ),
    "yaml alias bomb": ("nlu.yml", RASA_ALIAS_BOMB, "YAML aliases (*many) are not read"),
    "an intent with a line break": (
        "train.jsonl",
        json.dumps({"text": "to boston", "intent": "fly\nbad", "slots": []}) + "\n",
        "intent 'fly\\nbad' must be a non-empty string of printable characters",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_files_are_one_line_errors(name: str, tmp_path: Path) -> None:
    filename, content, message = CASES[name]
    path = tmp_path / filename
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as error:
        read_split(path)
    assert message in str(error.value) and str(error.value).startswith(str(path)) and "\n" not in str(error.value)
    stats = runner.invoke(app, ["data", "stats", str(path)])
    assert stats.exit_code == 2 and len(stats.stderr.strip().splitlines()) == 1, stats.output
    # validate reads past a bad record and lists it (exit 1); a file it cannot read at all is exit 2
    validate = runner.invoke(app, ["data", "validate", str(path), "--json"])
    if validate.exit_code == 1:
        listed = json.loads(validate.stdout)["list"]
        assert [p["kind"] for p in listed] == ["data"] and message in listed[0]["message"], listed
        assert str(error.value).startswith(listed[0]["where"] + ": ") and listed[0]["where"] != str(path)
    else:
        assert validate.exit_code == 2 and validate.stderr.strip() == f"error: {error.value}", validate.output


@pytest.mark.parametrize("target", ["out.yml", "out.jsonl", "out.json"])
def test_conversions_between_raw_text_formats_keep_the_text_exactly(target: str, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    record = {"text": "a close-by café, please!", "intent": "find", "slots": [{"start": 2, "end": 15, "slot": "place"}]}
    source.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    assert runner.invoke(app, ["data", "convert", str(source), str(tmp_path / target)]).exit_code == 0
    assert runner.invoke(app, ["data", "convert", str(tmp_path / target), str(tmp_path / "back.jsonl")]).exit_code == 0
    assert json.loads((tmp_path / "back.jsonl").read_text(encoding="utf-8")) == record


def test_splits_are_read_as_they_are_iterated(tmp_path: Path) -> None:
    """`data stats` holds one sentence at a time (200 MB of spans: 37 MB resident, measured): the
    first sentence comes before the reader has seen the broken second line."""
    from slotfill.data.formats import iter_split

    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"text": "to boston", "slots": []}) + "\n{broken\n", encoding="utf-8")
    examples = iter_split(path)
    assert next(examples).tokens == ("to", "boston")
    with pytest.raises(DataError, match=r"big.jsonl:2: bad JSON"):
        next(examples)
