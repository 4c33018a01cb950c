"""Every data format: read, write, detect, round trips between every pair, lookups, and span errors."""

from __future__ import annotations

import itertools
import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.choices import DATA_FORMATS
from slotfill.cli.app import app
from slotfill.data.alignment import SpanPolicy
from slotfill.data.context import Context
from slotfill.data.example import Example
from slotfill.data.formats import detect_format, format_of_name, read_lookups, read_split, write_split
from slotfill.data.stats import dataset_stats
from slotfill.errors import DataError

from ..conftest import DEMO

runner = CliRunner()
SAMPLE = read_split(DEMO / "test")[:60]
SUFFIX = {
    "atis": "", "conll": ".conll", "jsonl": ".jsonl", "spans": ".jsonl", "rasa": ".yml", "snips": ".json", "polyai": ".json",
}  # fmt: skip
WITH_INTENTS = ("rasa", "snips")  # every sentence of theirs has an intent


def written(examples: list[Example], directory: Path, fmt: str, name: str = "split") -> Path:
    path = directory / f"{name}{SUFFIX[fmt]}"
    write_split(examples, path, fmt)
    return path


def by_intent(examples: list[Example]) -> list[Example]:
    """Snips keys utterances by intent: its order is the examples' grouped by intent."""
    order = list(dict.fromkeys(e.intent for e in examples))
    return sorted(examples, key=lambda e: order.index(e.intent))


@pytest.mark.parametrize(("first", "second"), list(itertools.product(DATA_FORMATS, DATA_FORMATS)))
def test_every_pair_of_formats_round_trips(tmp_path: Path, first: str, second: str) -> None:
    there = read_split(written(SAMPLE, tmp_path, first, "a"), first)
    if first == "polyai" and second in WITH_INTENTS:  # PolyAI's turns have no intent to give them
        with pytest.raises(DataError, match="has no intent"):
            written(there, tmp_path, second, "b")
        return
    back = read_split(written(there, tmp_path, second, "b"), second)
    expected = by_intent(SAMPLE) if "snips" in (first, second) else SAMPLE
    if "polyai" in (first, second):
        expected = [replace(e, intent=None) for e in expected]
    assert back == expected  # every (tokens, tags, intent), exactly


CONTEXT = [
    replace(e, context=Context(("fromloc.city_name",) if i % 2 else ("toloc.city_name", "depart_date.day_name")))
    for i, e in enumerate(SAMPLE[:10])
]


@pytest.mark.parametrize(("first", "second"), list(itertools.product(("jsonl", "spans", "polyai"), repeat=2)))
def test_the_dialogue_context_round_trips_through_the_formats_that_hold_it(
    tmp_path: Path, first: str, second: str
) -> None:
    there = read_split(written(CONTEXT, tmp_path, first, "a"), first)
    back = read_split(written(there, tmp_path, second, "b"), second)
    assert [e.context for e in back] == [e.context for e in CONTEXT] and [e.tags for e in back] == [
        e.tags for e in CONTEXT
    ]


def test_a_format_without_context_warns_once_that_it_is_lost(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="slotfill"):
        written(CONTEXT, tmp_path, "conll")
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'split.conll'}: 10 sentences carry a dialogue context (requested slots), which the conll format "
        "cannot hold: not written"
    ]


@pytest.mark.parametrize("fmt", DATA_FORMATS)
def test_formats_are_recognised_from_the_path(tmp_path: Path, fmt: str) -> None:
    assert detect_format(written(SAMPLE, tmp_path, fmt)) == fmt


def test_raw_text_with_character_spans(tmp_path: Path) -> None:
    path = tmp_path / "home.jsonl"
    rows = [
        {"text": "Turn on the kitchen lights, please!", "intent": "turn_on", "slots": [{"start": 12, "end": 19, "slot": "room"}]},
        {"text": "Play some lo-fi in the study", "intent": "play", "slots": [{"start": 10, "end": 15, "slot": "genre"}, {"start": 23, "end": 28, "slot": "room"}]},
        {"text": "set it to 25%", "slots": [{"start": 10, "end": 13, "slot": "level"}]},
    ]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert read_split(path) == [
        Example(("Turn", "on", "the", "kitchen", "lights", ",", "please", "!"), ("O", "O", "O", "B-room", "O", "O", "O", "O"), "turn_on"),
        Example(("Play", "some", "lo", "-", "fi", "in", "the", "study"), ("O", "O", "B-genre", "I-genre", "I-genre", "O", "O", "B-room"), "play"),
        Example(("set", "it", "to", "25%"), ("O", "O", "O", "B-level"), None),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (
            {"text": "fly to bostonian", "slots": [{"start": 7, "end": 13, "slot": "city"}]},
            "slot 'city' at characters 7-13 ('boston') does not fall on token boundaries",
        ),
        (
            {"text": "to boston", "slots": [{"start": 0, "end": 9, "slot": "a"}, {"start": 3, "end": 9, "slot": "b"}]},
            "slot 'b' at characters 3-9 ('boston') overlaps slot 'a' ('to boston') in the annotation itself",
        ),
        ({"text": "to boston", "slots": [{"start": 3, "end": 99, "slot": "city"}]}, "at characters 3-99"),
        (
            {"text": "to boston", "slots": [{"start": "3", "end": 9, "slot": "city"}]},
            "slots[0] must have integer 'start' and 'end'",
        ),
        (
            {"text": "to boston", "slots": [{"start": 3, "end": 9, "slot": "to city"}]},
            "slot label 'to city' must be a non-empty string without spaces",
        ),
        ({"tokens": ["a"], "text": 3}, "'tokens' must be a list"),
    ],
)
def test_span_errors_name_the_line_and_the_text(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "fine", "slots": []}) + "\n" + json.dumps(record) + "\n")
    with pytest.raises(DataError) as error:
        read_split(path, "jsonl" if "tokens" in record else "spans", policy=SpanPolicy("error", "error"))
    assert message in str(error.value) and (str(error.value).startswith(f"{path}:2: ") or "tokens" in record)


RASA = """version: "3.1"
nlu:
- intent: book_flight
  examples: |
    - fly from [Taipei](fromloc.city_name) to [new york]{"entity": "city_name", "role": "toloc"}
    - [gastro pub](cuisine:gastropub) near [Reykjavík](city)
- synonym: New York City
  examples: |
    - NYC
    - big apple
- lookup: city
  examples: |
    - Qaanaaq
    - Nuuk
- regex: zipcode
  examples: |
    - [0-9]{5}
"""


def test_rasa_nlu_yaml(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text(RASA, encoding="utf-8")
    assert read_split(path) == [
        Example(("fly", "from", "Taipei", "to", "new", "york"), ("O", "O", "B-fromloc.city_name", "O", "B-toloc.city_name", "I-toloc.city_name"), "book_flight"),
        Example(("gastro", "pub", "near", "Reykjavík"), ("B-cuisine", "I-cuisine", "O", "B-city"), "book_flight"),
    ]  # fmt: skip
    assert read_lookups(path) == {
        "New York City": [("New York City", "NYC", "big apple")],
        "city": [("Qaanaaq",), ("Nuuk",)],
    }


def test_rasa_annotations_off_token_boundaries_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text("nlu:\n- intent: x\n  examples: |\n    - to denver\n    - [phoenix](city)to denver\n")
    with pytest.raises(
        DataError,
        match=rf"{path}:5: slot 'city' at characters 0-7 \('phoenix'\) does not fall on token boundaries \(tokens: phoenixto \| denver\)",
    ):
        read_split(path, policy=SpanPolicy("error", "error"))
    for bad in ("to [denver]{bad json}", "to [denver] now"):
        path.write_text(f"nlu:\n- intent: x\n  examples: |\n    - {bad}\n")
        with pytest.raises(DataError, match=rf"{path}:4: (bad|malformed) entity annotation"):
            read_split(path)
    path.write_text("intents: []\n")
    with pytest.raises(DataError, match="a Rasa NLU file has an 'nlu:' list"):
        read_split(path)


SNIPS = {
    "language": "en",
    "intents": {
        "bookFlight": {"utterances": [{"data": [{"text": "Book me a flight from "}, {"text": "Paris", "entity": "locality", "slot_name": "departure"}, {"text": " to "}, {"text": "New York", "entity": "locality", "slot_name": "destination"}]}]},
        "cancelFlight": {"utterances": [{"data": [{"text": "cancel "}, {"text": "tomorrow", "entity": "snips/datetime", "slot_name": "flight_time"}, {"text": "'s flight"}]}]},
    },
    "entities": {"locality": {"data": [{"value": "new york city", "synonyms": ["new york", "big apple"]}], "use_synonyms": True}, "snips/datetime": {}},
}  # fmt: skip


def test_snips_dataset(tmp_path: Path) -> None:
    path = tmp_path / "flights.json"
    good = {**SNIPS, "intents": {"bookFlight": SNIPS["intents"]["bookFlight"]}}
    path.write_text(json.dumps(good))
    assert read_split(path) == [
        Example(("Book", "me", "a", "flight", "from", "Paris", "to", "New", "York"), ("O",) * 5 + ("B-departure", "O", "B-destination", "I-destination"), "bookFlight")
    ]  # fmt: skip
    assert read_lookups(path) == {"locality": [("new york city", "new york", "big apple")]}
    path.write_text(json.dumps(SNIPS))  # "tomorrow" + "'s flight" cuts the token "tomorrow's"
    with pytest.raises(
        DataError,
        match=r"intents.cancelFlight.utterances\[0\]: slot 'flight_time' at characters 7-15 \('tomorrow'\) does not fall on token boundaries",
    ):
        read_split(path, policy=SpanPolicy("error", "error"))
    cancel = read_split(path)[1]  # by default the slot covers the token it cuts
    assert (cancel.tokens, cancel.tags) == (("cancel", "tomorrow's", "flight"), ("O", "B-flight_time", "O"))


def test_lookups_survive_conversion_between_rasa_and_snips(tmp_path: Path) -> None:
    rasa = tmp_path / "nlu.yml"
    rasa.write_text(RASA, encoding="utf-8")
    snips = tmp_path / "out.json"
    assert runner.invoke(app, ["data", "convert", str(rasa), str(snips)]).exit_code == 0
    assert read_lookups(snips) == read_lookups(rasa) and read_split(snips) == read_split(rasa)


def test_convert_picks_the_format_a_new_file_is_read_back_in(tmp_path: Path) -> None:
    """With --to auto, a target's name gives its format, and reading it back detects the same."""
    written = {"atis": "atis", "x.yml": "rasa", "x.yaml": "rasa", "x.json": "snips", "x.jsonl": "spans"}
    written |= {"x.ndjson": "spans", "x.conll": "conll", "x.txt": "conll"}
    for name, fmt in written.items():
        assert format_of_name(tmp_path / name) == fmt
        assert runner.invoke(app, ["data", "convert", str(DEMO / "dev"), str(tmp_path / name)]).exit_code == 0
        assert detect_format(tmp_path / name) == fmt, name
        # Rasa and Snips group the examples by intent: the same examples, in another order
        assert sorted(read_split(tmp_path / name), key=repr) == sorted(read_split(DEMO / "dev"), key=repr), name


def test_writing_atis_needs_an_intent_on_every_line_or_none(tmp_path: Path) -> None:
    mixed = [SAMPLE[0], Example(SAMPLE[1].tokens, SAMPLE[1].tags, None)]
    with pytest.raises(DataError, match="sentence 2 has no intent"):
        write_split(mixed, tmp_path / "atis", "atis")
    with pytest.raises(DataError, match="sentence 2 has no intent: every Rasa example belongs to one"):
        write_split(mixed, tmp_path / "x.yml", "rasa")
    write_split([Example(e.tokens, e.tags, None) for e in SAMPLE[:3]], tmp_path / "plain", "atis")
    assert not (tmp_path / "plain" / "label").exists() and len(read_split(tmp_path / "plain")) == 3


def test_stats_count_and_name_what_train_never_shows(tmp_path: Path) -> None:
    for split, examples in (
        ("train", SAMPLE[:40]),
        ("dev", SAMPLE[40:50]),
        ("test", [*SAMPLE[50:], Example(("hi",), ("B-greeting",), "chat")]),
    ):
        write_split(examples, tmp_path / f"{split}.jsonl", "spans")
    stats = dataset_stats(tmp_path)
    assert list(stats["splits"]) == ["train", "dev", "test"] and stats["splits"]["test"]["sentences"] == 11
    assert stats["splits"]["train"]["tokens"] == sum(len(e.tokens) for e in SAMPLE[:40])
    assert stats["unseen"]["test"]["slots"]["greeting"] == 1 and stats["unseen"]["test"]["intents"] == {"chat": 1}
    result = runner.invoke(app, ["data", "stats", str(tmp_path), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout) == json.loads(json.dumps(stats))
    result = runner.invoke(app, ["data", "stats", str(tmp_path)])
    assert result.exit_code == 0 and "never in train" in result.stdout and "greeting" in result.stdout


def test_convert_errors_are_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "convert", str(tmp_path / "nope"), str(tmp_path / "x.yml")])
    assert result.exit_code == 2 and "no such file or directory" in result.stderr
    result = runner.invoke(app, ["data", "convert", str(DEMO / "dev"), str(tmp_path / "x"), "--to", "xml"])
    assert result.exit_code == 2 and "--to: 'xml' is not one of" in result.stderr


def test_a_gazetteer_takes_a_lookup_list_of_the_training_data(tmp_path: Path) -> None:
    from slotfill.config import config_from_dict
    from slotfill.errors import ConfigError
    from slotfill.features.gazetteer_sources import build_gazetteers

    path = tmp_path / "nlu.yml"
    path.write_text(RASA, encoding="utf-8")
    config = config_from_dict({"gazetteers": {"city": {"lookup": "city", "slots": ["city"]}}})
    gazetteers = build_gazetteers(config.gazetteers, read_split(path), read_lookups(path))
    assert gazetteers["city"].entries == (("Reykjavík",), ("Qaanaaq",), ("Nuuk",))
    assert gazetteers["city"].source == "training values of city + lookup city of the training data"
    missing = config_from_dict({"gazetteers": {"town": {"lookup": "town"}}})
    with pytest.raises(
        ConfigError,
        match=r"gazetteers.town.lookup: 'town' is not a lookup list of the training data \(it has: New York City, city\)",
    ):
        build_gazetteers(missing.gazetteers, read_split(path), read_lookups(path))


def test_every_format_is_one_entry_of_the_table_the_config_offers() -> None:
    """choices.DATA_FORMATS (what the config's data.format and the CLI's --format accept) is the
    formats table's keys: a format added to the table is offered, and one offered is readable."""
    from slotfill.data.formats import FORMATS, TEXT_FORMATS

    assert tuple(FORMATS) == DATA_FORMATS
    assert TEXT_FORMATS == ("spans", "rasa", "snips", "polyai")
