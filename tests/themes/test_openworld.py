"""The open world: text as people type it, lists that grow without retraining, and words a list
holds that the context says are no slot."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import read_split
from slotfill.errors import ModelError
from slotfill.features.gazetteer import GazetteerUpdate
from slotfill.predict import Predictor
from slotfill.store.model_dir import load_model
from slotfill.text.tokenise import is_punctuation

from ..conftest import DEMO, ROOT, written_before_checksums

runner = CliRunner()
SENTENCES = [" ".join(example.tokens) for example in read_split(DEMO / "test")[:40]]
PUNCTUATION = [",", ".", "?", "!", "...", ";", ":", "-", "—", "(", ")", "“", "”", '"', "'"]


def slot_words(parsed: dict) -> list[tuple[str, str]]:
    """(slot, text with punctuation left out) of each slot: what must not change with punctuation."""
    return [(s["slot"], " ".join(t for t in s["text"].split() if not is_punctuation(t))) for s in parsed["slots"]]


@pytest.fixture(scope="module")
def predictor(trained_run: Path) -> Predictor:
    return Predictor.load(trained_run, "cpu")


@settings(max_examples=40)
@given(
    index=st.integers(0, len(SENTENCES) - 1),
    marks=st.lists(st.tuples(st.integers(0, 30), st.sampled_from(PUNCTUATION)), max_size=6),
)
def test_punctuation_anywhere_never_changes_the_slots(
    predictor: Predictor, index: int, marks: list[tuple[int, str]]
) -> None:
    words = SENTENCES[index].split()
    for position, mark in sorted(marks, reverse=True):
        words.insert(min(position, len(words)), mark)
    noisy = predictor.parse(" ".join(words))
    assert slot_words(noisy) == slot_words(predictor.parse(SENTENCES[index]))
    assert noisy["intent"] == predictor.parse(SENTENCES[index])["intent"]
    for token, tag in zip(noisy["tokens"], noisy["tags"]):
        if is_punctuation(token):
            assert not tag.startswith("B-")  # a punctuation mark never starts a slot of its own


def test_casing_spacing_quotes_and_accents_never_change_the_slots(predictor: Predictor) -> None:
    plain = predictor.parse("i'd like to fly from reykjavik to boston on monday")
    for typed in (
        "I\u2019d like to fly from Reykjavík to Boston on Monday!",
        "  I'd   LIKE to fly from REYKJAVÍK to boston on monday ?",
        "\u201cI'd like to fly from Reykjavik to Boston on Monday.\u201d",
    ):
        parsed = predictor.parse(typed)
        assert [s["slot"] for s in parsed["slots"]] == [s["slot"] for s in plain["slots"]]
        assert [s["text"].lower().replace("í", "i") for s in parsed["slots"]] == [s["text"] for s in plain["slots"]]
        for slot in parsed["slots"]:
            assert typed[slot["start"] : slot["end"]] == slot["text"]  # offsets into what was typed, exactly


def test_a_slot_spans_the_punctuation_inside_it(gazetteer_run: Path) -> None:
    predictor = Predictor.load(gazetteer_run, "cpu", gazetteers=[GazetteerUpdate("city", (("Winston-Salem",),))])
    parsed = predictor.parse("fly from Winston-Salem to boston")
    assert ("fromloc.city_name", "Winston-Salem", 9, 22) in [
        (s["slot"], s["text"], s["start"], s["end"]) for s in parsed["slots"]
    ]
    assert parsed["tags"][2:5] == ["B-fromloc.city_name", "I-fromloc.city_name", "I-fromloc.city_name"]


# made-up cities that start with a word the model knows as something else: without the list it
# cuts them short, with the list it takes them whole
MADE_UP = ("Sunday River", "First Class Osnapor")  # places no list names, whose first words mean something else


def test_a_value_added_at_prediction_time_is_found_without_retraining(gazetteer_run: Path, tmp_path: Path) -> None:
    texts = [f"i need a flight from denver to {city} on monday" for city in MADE_UP]
    before = [
        [(s["slot"], s["text"]) for s in p["slots"]] for p in Predictor.load(gazetteer_run, "cpu").parse_many(texts)
    ]
    assert before == [
        [("fromloc.city_name", "denver"), ("toloc.city_name", "Sunday"), ("depart_date.day_name", "monday")],
        [("fromloc.city_name", "denver"), ("toloc.city_name", "First Class"), ("depart_date.day_name", "monday")],
    ]
    extra = tmp_path / "cities.txt"
    extra.write_text("# cities we fly to now\n" + "\n".join(MADE_UP) + "\n", encoding="utf-8")
    grown = Predictor.load(gazetteer_run, "cpu", gazetteers=[GazetteerUpdate.from_spec(f"city={extra}")])
    after = [[(s["slot"], s["text"]) for s in p["slots"]] for p in grown.parse_many(texts)]
    assert after == [
        [("fromloc.city_name", "denver"), ("toloc.city_name", city), ("depart_date.day_name", "monday")]
        for city in MADE_UP
    ]
    result = runner.invoke(app, ["predict", str(gazetteer_run), "--gazetteer", f"city={extra}", *texts])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["slots"] for line in result.stdout.splitlines()] == [
        p["slots"] for p in grown.parse_many(texts)
    ]


def test_update_gazetteers_on_a_loaded_predictor(gazetteer_run: Path) -> None:
    predictor = Predictor.load(gazetteer_run, "cpu")
    size = len(predictor.gazetteers["city"].entries)
    predictor.update_gazetteers([GazetteerUpdate("city", ((MADE_UP[0],),))])
    assert len(predictor.gazetteers["city"].entries) == size + 1
    text = f"i need a flight from denver to {MADE_UP[0]} on monday"
    assert ("toloc.city_name", MADE_UP[0]) in [(s["slot"], s["text"]) for s in predictor.parse(text)["slots"]]
    predictor.update_gazetteers([GazetteerUpdate("city", ((MADE_UP[1],),), replace=True)])
    assert predictor.gazetteers["city"].entries == ((MADE_UP[1],),)
    assert ("toloc.city_name", MADE_UP[0]) not in [(s["slot"], s["text"]) for s in predictor.parse(text)["slots"]]


def test_list_words_are_not_slots_where_the_context_says_otherwise(gazetteer_run: Path) -> None:
    predictor = Predictor.load(
        gazetteer_run, "cpu", gazetteers=[GazetteerUpdate("city", (("Charlotte",), ("Phoenix",)))]
    )
    cases = {
        "my friend charlotte wants to fly from boston to denver": "charlotte",
        "my friend phoenix wants to fly from boston to denver": "phoenix",
    }
    for text, word in cases.items():
        parsed = predictor.parse(text)
        assert all(word not in s["text"].lower() for s in parsed["slots"]), parsed["slots"]
        assert [s["text"] for s in parsed["slots"]] == ["boston", "denver"]
    # and the same list word in a place's position is a slot
    parsed = predictor.parse("fly from charlotte to phoenix")
    assert [(s["slot"], s["text"]) for s in parsed["slots"]] == [
        ("fromloc.city_name", "charlotte"),
        ("toloc.city_name", "phoenix"),
    ]


def test_the_gazetteer_model_directory_is_self_contained(gazetteer_run: Path) -> None:
    index = json.loads((gazetteer_run / "model" / "gazetteers" / "index.json").read_text())
    assert [item["name"] for item in index["lists"]] == ["city", "airline"]
    assert index["lists"][0]["source"] == "training values of city_name"
    loaded = load_model(gazetteer_run, torch.device("cpu"))
    assert (
        loaded.gazetteers.names == ("city", "airline")
        and len(loaded.gazetteers["city"].entries) == index["lists"][0]["entries"]
    )


def test_a_damaged_or_missing_gazetteer_in_a_model_is_a_clear_error(gazetteer_run: Path, tmp_path: Path) -> None:
    model = tmp_path / "model"
    shutil.copytree(gazetteer_run / "model", model)
    city = model / "gazetteers" / "city.txt"
    city.write_text(city.read_text(encoding="utf-8").replace("boston", "bostn"), encoding="utf-8")
    with pytest.raises(ModelError, match="gazetteers/city.txt: damaged or edited since it was saved"):
        load_model(model, torch.device("cpu"))
    written_before_checksums(model)  # then the gazetteers' own index still finds it
    with pytest.raises(ModelError, match="city.txt: damaged gazetteer file"):
        load_model(model, torch.device("cpu"))
    shutil.rmtree(model / "gazetteers")
    result = runner.invoke(app, ["predict", str(model), "to boston"])
    assert (
        result.exit_code == 2
        and "missing or damaged gazetteer index" in result.stderr
        and len(result.stderr.strip().splitlines()) == 1
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "no such gazetteer file"), (b"", "no entries"), (b"Qaanaaq\n\xe9\n", ":2: not UTF-8")],
)
def test_bad_gazetteer_files_on_the_command_line(
    gazetteer_run: Path, tmp_path: Path, content: bytes | None, message: str
) -> None:
    path = tmp_path / "list.txt"
    if content is not None:
        path.write_bytes(content)
    for command in (
        ["predict", str(gazetteer_run), "to boston"],
        ["tag", str(gazetteer_run)],
        ["serve", str(gazetteer_run)],
    ):
        result = runner.invoke(app, [*command, "--gazetteer", f"city={path}"], input="")
        assert result.exit_code == 2, result.output
        assert message in result.stderr and str(path) in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_list_the_model_does_not_have(gazetteer_run: Path, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("Qaanaaq\n")
    result = runner.invoke(app, ["predict", str(gazetteer_run), "--gazetteer", f"town={path}", "to boston"])
    assert result.exit_code == 2 and "the model has no such list (it has: city, airline)" in result.stderr


@pytest.mark.parametrize("version", ["model_v1", "model_v2"])
def test_model_directories_of_every_format_version_still_load_and_parse_the_same(version: str) -> None:
    fixture = ROOT / "tests" / "fixtures" / version
    expected = [json.loads(line) for line in (fixture / "expected.jsonl").read_text(encoding="utf-8").splitlines()]
    parsed = list(Predictor.load(fixture, "cpu", values=False).parse_many([e["text"] for e in expected]))
    # the same parses; slots have gained a confidence since format 1 and 2 were written
    assert [
        {**p, "slots": [{k: v for k, v in s.items() if k != "confidence"} for s in p["slots"]]} for p in parsed
    ] == expected
    assert all(0 < s["confidence"] <= 1 for p in parsed for s in p["slots"])
    # and values with the default rules (their configs have no `values:` section)
    valued = list(Predictor.load(fixture, "cpu").parse_many([e["text"] for e in expected], now="2026-12-01"))
    assert all("frame" in p for p in valued) and any(p["frame"] for p in valued)
