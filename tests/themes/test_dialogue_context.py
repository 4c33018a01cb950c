"""The dialogue context (issue 45): after "for how many people?" the answer "4" is a party size,
after "what time?" a time. Turns carry the slots the system requested, in the spans, jsonl and
PolyAI formats; a model trained with them reads them as an input, in training, evaluation, predict,
tag, serve, annotate and the exported model alike."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from slotfill.cli.app import app
from slotfill.data.formats import detect_format, read_split
from slotfill.errors import DataError
from slotfill.predict import Predictor

runner = CliRunner()
NUMBERS = [str(n) for n in range(2, 13)]


def turn(text: str, slots: list[tuple[str, str]], requested: list[str] | None = None) -> dict:
    """A PolyAI span-extraction turn of `text` with each (value, slot) annotated at its first place."""
    record: dict = {"userInput": {"text": text}}
    if requested is not None:
        record["context"] = {"requestedSlots": requested}
    labels = []
    for value, slot in slots:
        start = text.index(value)
        span = {"endIndex": start + len(value)}
        if start:
            span["startIndex"] = start  # PolyAI leaves out a zero start
        labels.append({"slot": slot, "valueSpan": span})
    if labels:
        record["labels"] = labels
    return record


def bookings(count: int, seed: int) -> list[dict]:
    """Booking turns in which a bare number is the people or the time only by what was asked."""
    rng, turns = random.Random(seed), []
    for _ in range(count):
        n, m = rng.choice(NUMBERS), rng.choice(NUMBERS)
        kind = rng.randrange(4)
        if kind == 0:
            turns.append(turn(n, [(n, "people")], ["people"]))
        elif kind == 1:
            turns.append(turn(n, [(n, "time")], ["time"]))
        elif kind == 2:
            turns.append(turn(f"a table for {n} at {m} pm", [(n, "people"), (f"{m} pm", "time")]))
        else:
            turns.append(turn(f"{n} please", [(n, "people" if rng.random() < 0.5 else "time")], []))
    return turns


@pytest.fixture(scope="module")
def dialogue_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("dialogue")
    (directory / "train.json").write_text(json.dumps(bookings(300, 1)), encoding="utf-8")
    (directory / "test.json").write_text(json.dumps(bookings(80, 2)), encoding="utf-8")
    return directory


@pytest.fixture(scope="module")
def dialogue_run(dialogue_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from slotfill.config import config_from_dict
    from slotfill.training.loop import train

    run = tmp_path_factory.mktemp("dialogue-run") / "run"
    config = {
        "seed": 3, "device": "cpu",
        "data": {"dir": str(dialogue_data), "train": "train.json", "dev": None, "test": "test.json"},
        "model": {"embedding": {"dim": 16}, "chars": {"enabled": False}, "encoder": {"hidden_size": 24}},
        "training": {"epochs": 8, "batch_size": 16, "lr": 0.01},
    }  # fmt: skip
    train(config_from_dict(config), run)
    return run


def test_polyai_turns_are_read_with_their_requested_slots(dialogue_data: Path) -> None:
    path = dialogue_data / "train.json"
    assert detect_format(path) == "polyai"
    first = read_split(path)[0]
    record = json.loads(path.read_text())[0]
    assert first.context.requested_slots == tuple(record.get("context", {}).get("requestedSlots", []))
    assert first.intent is None


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"userInput": {"text": "13"}, "labels": [{"slot": "people", "valueSpan": {"endIndex": 5}}]},
         r"x\.json: turn 1: labels\[0\]\.valueSpan 0-5 lies outside its text \(2 characters\)"),
        ({"userInput": {"text": "13"}, "context": {"requestedSlots": "people"}},
         r"x\.json: turn 1: 'requested_slots' must be a list of slot names \(strings\)"),
        ({"userInput": {"text": "13"}, "context": {"requestedSlots": [f"s{i}" for i in range(17)]}},
         r"x\.json: turn 1: 17 requested slots; at most 16"),
        ({"userInput": {"text": "13"}, "context": ["people"]}, r"x\.json: turn 1: 'context' must be an object"),
        ({"text": "13"}, r"x\.json: turn 1: expected an object with 'userInput'"),
    ],
)  # fmt: skip
def test_bad_polyai_turns_are_one_line_naming_the_file_and_turn(tmp_path: Path, record: dict, message: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps([{"userInput": {"text": "fine"}}, record]), encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_split(path, "polyai")


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ('"people"', r"'context' must be an object"),
        ('{"requested_slots": [1]}', r"'requested_slots' must be a list of slot names"),
        ('{"requested_slot": ["people"]}', r"context key 'requested_slot' is not one slotfill reads"),
    ],
)
def test_a_bad_context_in_spans_data_is_one_line(tmp_path: Path, context: str, message: str) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "13", "slots": []}\n{"text": "13", "slots": [], "context": ' + context + "}\n")
    with pytest.raises(DataError, match=rf"t\.jsonl:2: {message}"):
        read_split(path)


def test_stats_and_validate_report_the_requested_slots(dialogue_data: Path, tmp_path: Path) -> None:
    stats = json.loads(runner.invoke(app, ["data", "stats", str(dialogue_data / "train.json"), "--json"]).stdout)
    data = stats["splits"]["data"]
    turns = json.loads((dialogue_data / "train.json").read_text())
    with_requested = [t for t in turns if t.get("context", {}).get("requestedSlots")]
    assert data["requested"]["turns"] == len(with_requested)
    assert data["requested"]["slots"] == {
        "people": sum(t["context"]["requestedSlots"] == ["people"] for t in with_requested),
        "time": sum(t["context"]["requestedSlots"] == ["time"] for t in with_requested),
    }
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([turn("4", [("4", "people")], ["people"]), turn("5", [], ["party_size"])]))
    result = runner.invoke(app, ["data", "validate", str(bad), "--json"])
    problems = [(p["kind"], p["message"]) for p in json.loads(result.stdout)["list"]]
    assert (
        "requested_slot",
        "requested slot 'party_size' is no slot of the data (its slots: people): a model reads it as a context of its "
        "own, and answers to it as no slot",
    ) in problems


def test_a_model_trained_with_context_reads_the_slot_the_system_asked_for(dialogue_run: Path) -> None:
    predictor = Predictor.load(dialogue_run, "cpu")
    assert predictor.loaded.vocab.requested.items == ["people", "time"]
    slots = {
        asked: [s["slot"] for s in predictor.parse("7", context={"requested_slots": [asked]}, values=False)["slots"]]
        for asked in ("people", "time")
    }
    assert slots == {"people": ["people"], "time": ["time"]}
    both = predictor.parse("a table for 4 at 8 pm", values=False)  # without context, as it always did
    assert [(s["slot"], s["text"]) for s in both["slots"]] == [("people", "4"), ("time", "8 pm")]


def test_evaluate_splits_the_turns_with_and_without_a_requested_slot(dialogue_run: Path, dialogue_data: Path) -> None:
    result = runner.invoke(app, ["evaluate", str(dialogue_run), str(dialogue_data / "test.json"), "--json"])
    split = json.loads(result.stdout)["by_context"]
    turns = json.loads((dialogue_data / "test.json").read_text())
    requested = sum(bool(t.get("context", {}).get("requestedSlots")) for t in turns)
    assert (split["with_requested_slot"]["turns"], split["without_requested_slot"]["turns"]) == (
        requested,
        len(turns) - requested,
    )
    assert (
        split["bare_answers"]["slot_f1"] >= 0.95
    )  # a bare number answers what was asked (without context: a coin toss)


def test_unknown_requested_slots_are_a_warning_never_an_error(dialogue_run: Path, trained_run: Path) -> None:
    predictor = Predictor.load(dialogue_run, "cpu")
    parsed = predictor.parse("7", context={"requested_slots": ["colour", "time"]}, values=False)
    assert [s["slot"] for s in parsed["slots"]] == ["time"]
    assert parsed["warnings"] == [
        "requested slot 'colour' is not a slot of this model (its slots: people, time): parsed without it"
    ]
    plain = Predictor.load(trained_run, "cpu")  # a model trained without context
    assert plain.parse("to boston", context={"requested_slots": ["x"]}, values=False)["warnings"] == [
        "this model was trained without dialogue context: the requested slots are not read"
    ]
    assert "warnings" not in plain.parse("to boston", values=False)
    with pytest.raises(DataError, match="'requested_slots' must be a list of slot names"):
        predictor.parse("7", context={"requested_slots": "time"})


def test_predict_takes_requested_slots_and_json_lines(dialogue_run: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", str(dialogue_run), "7", "--requested-slot", "time", "--no-values"])
    assert [s["slot"] for s in json.loads(result.stdout)["slots"]] == ["time"]
    lines = tmp_path / "turns.jsonl"
    lines.write_text('{"text": "7", "context": {"requested_slots": ["people"]}}\n7\n{"text": "7"}\n')
    result = runner.invoke(
        app, ["predict", str(dialogue_run), "--input", str(lines), "--requested-slot", "time", "--no-values"]
    )
    assert [[s["slot"] for s in json.loads(line)["slots"]] for line in result.stdout.splitlines()] == [
        ["people"], ["time"], ["time"],  # a line without a context of its own takes --requested-slot
    ]  # fmt: skip
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "7", "context": {"requested_slots": "people"}}\n')
    result = runner.invoke(app, ["predict", str(dialogue_run), "--input", str(bad)])
    assert result.exit_code == 2 and "bad.jsonl:1: 'requested_slots' must be a list of slot names" in result.stderr


def test_tag_asks_between_sentences(dialogue_run: Path) -> None:
    result = runner.invoke(
        app,
        ["tag", str(dialogue_run), "--no-values"],
        input='{"text": "7", "context": {"requested_slots": ["time"]}}\n',
    )
    assert [s["slot"] for s in json.loads(result.stdout)["slots"]] == ["time"]


def test_serve_reads_context_in_parse_and_batch(dialogue_run: Path) -> None:
    from ..serve.test_serve import call, start_server

    process, url = start_server(dialogue_run)
    try:
        status, parsed = call(
            url + "/parse", {"text": "7", "context": {"requested_slots": ["people"]}, "values": False}
        )
        assert status == 200 and [s["slot"] for s in parsed["slots"]] == ["people"]
        body = {
            "texts": ["7", "7", "7"],
            "contexts": [{"requested_slots": ["time"]}, None, {"requested_slots": ["nope"]}],
        }
        status, answer = call(url + "/parse/batch", {**body, "values": False})
        assert status == 200 and [r.get("warnings") for r in answer["results"]][:2] == [None, None]
        assert [s["slot"] for s in answer["results"][0]["slots"]] == ["time"]
        assert "requested slot 'nope' is not a slot of this model" in answer["results"][2]["warnings"][0]
        for bad in ({"text": "7", "context": "people"}, {"text": "7", "context": {"requested_slots": [f"s{i}" for i in range(17)]}},
                    {"texts": ["7"], "contexts": [None, None]}):  # fmt: skip
            status, _ = call(url + ("/parse/batch" if "texts" in bad else "/parse"), bad)
            assert status == 422
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_exported_model_reads_context_as_torch_does_alone_and_batched(
    dialogue_run: Path, dialogue_data: Path, tmp_path: Path
) -> None:
    from slotfill.export.onnx import export_model

    export_model(dialogue_run, tmp_path / "onnx")
    examples = read_split(dialogue_data / "test.json")
    texts, contexts = [e.text for e in examples], [e.context for e in examples]
    torch_model, exported = Predictor.load(dialogue_run, "cpu"), Predictor.load(tmp_path / "onnx", "cpu")
    by_torch = list(torch_model.parse_many(texts, contexts=contexts, values=False))
    batched = list(exported.parse_many(texts, contexts=contexts, values=False))
    alone = [exported.parse(text, context=context, values=False) for text, context in zip(texts, contexts)]
    assert alone == batched
    assert [(p["tags"], [s["slot"] for s in p["slots"]]) for p in batched] == [
        (p["tags"], [s["slot"] for s in p["slots"]]) for p in by_torch
    ]


def test_annotate_shows_and_keeps_the_context(dialogue_run: Path, tmp_path: Path) -> None:
    turns = tmp_path / "turns.jsonl"
    turns.write_text('{"text": "7", "context": {"requested_slots": ["people"]}}\n')
    out = tmp_path / "corrected.jsonl"
    result = runner.invoke(
        app, ["annotate", str(dialogue_run), "--input", str(turns), "--output", str(out)], input="\n"
    )
    assert result.exit_code == 0, result.output
    assert "the system asked for: people" in result.stdout
    (written,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert written["context"] == {"requested_slots": ["people"]} and written["slots"][0]["slot"] == "people"
    assert read_split(out)[0].context.requested_slots == ("people",)
